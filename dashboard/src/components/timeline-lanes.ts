// Interval partitioning for the timeline: attempts that overlap on one device
// (a device with several slots) go to separate lanes of that device's row.

export interface Interval {
  start: number;
  end: number;
}

/** Lane index per interval (same order as given) and the number of lanes; greedy by start time, optimal. */
export function assignLanes(intervals: readonly Interval[]): { lanes: number[]; count: number } {
  const order = intervals.map((_, i) => i).sort((a, b) => intervals[a]!.start - intervals[b]!.start || a - b);
  const laneEnds: number[] = [];
  const lanes = new Array<number>(intervals.length).fill(0);
  for (const i of order) {
    const iv = intervals[i]!;
    let lane = laneEnds.findIndex((end) => end <= iv.start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(iv.end);
    } else {
      laneEnds[lane] = iv.end;
    }
    lanes[i] = lane;
  }
  return { lanes, count: Math.max(1, laneEnds.length) };
}
