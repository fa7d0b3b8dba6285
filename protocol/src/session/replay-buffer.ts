// Reliable messages sent but not yet acknowledged, in seq order. A deque on
// an array with a moving head: acks release from the front in O(released).
import type { Body } from '../messages.js';

export interface Outstanding {
  seq: number;
  body: Body;
}

export class ReplayBuffer {
  private items: Outstanding[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: Outstanding): void {
    this.items.push(item);
  }

  /** Removes and returns every entry with seq <= ack. */
  release(ack: number): Outstanding[] {
    const start = this.head;
    while (this.head < this.items.length && (this.items[this.head] as Outstanding).seq <= ack) {
      this.head++;
    }
    const released = this.items.slice(start, this.head);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return released;
  }

  entries(): Outstanding[] {
    return this.items.slice(this.head);
  }

  /** Empties the buffer, returning what it held. */
  drain(): Outstanding[] {
    const all = this.entries();
    this.items = [];
    this.head = 0;
    return all;
  }
}
