import { Controller, Sse, type MessageEvent } from '@nestjs/common';
import { Access } from '../auth/access';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { FarmEventsService } from './farm-events.service';
import { toMessageEvent } from './job-events';

@ApiTags('events')
@Controller('events')
export class FarmEventsController {
  constructor(private readonly events: FarmEventsService) {}

  @Access('read')
  @Sse()
  @ApiOperation({
    summary: 'Server-sent events of the whole farm: `jobs` (jobs whose status, progress or times changed) and `devices` (devices whose state or health changed)',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream; the first events give every unfinished job and every device' })
  stream(): Observable<MessageEvent> {
    return this.events.watch().pipe(map(toMessageEvent));
  }
}
