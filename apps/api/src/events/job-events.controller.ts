import { Controller, Param, ParseUUIDPipe, Sse, type MessageEvent } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { toMessageEvent } from './job-events';
import { JobEventsService } from './job-events.service';
import { Access } from '../auth/access';

@ApiTags('jobs')
@Controller('jobs')
export class JobEventsController {
  constructor(private readonly events: JobEventsService) {}

  @Sse(':id/events')
  @Access('read')
  @ApiOperation({
    summary: "Server-sent events of a job: `progress` (its counts) and `runs` (runs whose status changed) as they change, then `finished`",
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream; the first events give the whole job, and it ends after `finished`' })
  @ApiNotFoundResponse({ description: 'No such job' })
  async stream(@Param('id', ParseUUIDPipe) id: string): Promise<Observable<MessageEvent>> {
    return (await this.events.watch(id)).pipe(map(toMessageEvent));
  }
}
