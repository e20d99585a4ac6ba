import { Injectable } from '@nestjs/common';

/** The time schedules reason about; tests replace it to run many nights in seconds. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
