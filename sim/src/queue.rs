//! The scheduler's queue: events ordered by (time, sequence), where the sequence number breaks
//! ties in insertion order, so the order of events is a pure function of the seed. The heap
//! holds small keys; events sit in a slab whose slots are reused, so steady-state stepping does
//! not allocate. The queue is bounded: a push past the bound is refused and reported.

use crate::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A bounded priority queue of `T` keyed by (time, insertion order).
#[derive(Debug)]
pub struct Queue<T> {
    heap: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    next_sequence: u64,
    capacity: usize,
}

/// A push was refused because the queue held `capacity` events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull {
    pub capacity: usize,
}

impl<T> Queue<T> {
    /// An empty queue holding at most `capacity` events.
    pub fn new(capacity: usize) -> Queue<T> {
        assert!(capacity > 0 && capacity < u32::MAX as usize);
        Queue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_sequence: 0,
            capacity,
        }
    }

    /// Schedules `item` at `time`, after every event already scheduled for that time.
    #[inline]
    pub fn push(&mut self, time: SimTime, item: T) -> Result<(), QueueFull> {
        if self.heap.len() >= self.capacity {
            return Err(QueueFull { capacity: self.capacity });
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(item);
                slot
            }
            None => {
                self.slab.push(Some(item));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((time, self.next_sequence, slot)));
        self.next_sequence += 1;
        Ok(())
    }

    /// Removes the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        let Reverse((time, _, slot)) = self.heap.pop()?;
        let item = self.slab[slot as usize].take().expect("a queued slot holds its event");
        self.free.push(slot);
        Some((time, item))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse((time, ..))| *time)
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_pop_by_time_then_insertion_order() {
        let mut queue = Queue::new(16);
        for (time, name) in [(5, "c"), (1, "a"), (5, "d"), (1, "b"), (3, "x")] {
            queue.push(time, name).unwrap();
        }
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(order, vec![(1, "a"), (1, "b"), (3, "x"), (5, "c"), (5, "d")]);
    }

    #[test]
    fn the_bound_refuses_and_slots_are_reused() {
        let mut queue = Queue::new(2);
        queue.push(1, 1).unwrap();
        queue.push(2, 2).unwrap();
        assert_eq!(queue.push(3, 3), Err(QueueFull { capacity: 2 }));
        assert_eq!(queue.pop(), Some((1, 1)));
        queue.push(4, 4).unwrap();
        assert_eq!(queue.slab.len(), 2, "the freed slot was reused");
        assert_eq!(queue.peek_time(), Some(2));
    }
}
