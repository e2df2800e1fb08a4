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
    /// Sequence numbers of ordinary pushes count up from `FIRST_SEQUENCE`; those of
    /// [`Queue::push_before`] count down below it, so they sort ahead at equal times.
    next_sequence: u64,
    next_sequence_before: u64,
    capacity: usize,
}

const FIRST_SEQUENCE: u64 = 1 << 63;

/// A push was refused because the queue held `capacity` events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull {
    /// The queue's bound.
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
            next_sequence: FIRST_SEQUENCE,
            next_sequence_before: FIRST_SEQUENCE - 1,
            capacity,
        }
    }

    /// Schedules `item` at `time`, after every event already scheduled for that time.
    #[inline]
    pub fn push(&mut self, time: SimTime, item: T) -> Result<(), QueueFull> {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.insert(time, sequence, item)
    }

    /// Schedules `items` at `time`, in their order, ahead of every event already scheduled for
    /// that time (events a pause held back, which were due before anything due now).
    pub fn push_before(&mut self, time: SimTime, items: Vec<T>) -> Result<(), QueueFull> {
        for item in items.into_iter().rev() {
            let sequence = self.next_sequence_before;
            self.next_sequence_before -= 1;
            self.insert(time, sequence, item)?;
        }
        Ok(())
    }

    fn insert(&mut self, time: SimTime, sequence: u64, item: T) -> Result<(), QueueFull> {
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
        self.heap.push(Reverse((time, sequence, slot)));
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
    fn pushed_before_events_go_first_at_their_time_in_their_order() {
        let mut queue = Queue::new(16);
        queue.push(5, "due").unwrap();
        queue.push(9, "later").unwrap();
        queue.push_before(5, vec!["held 1", "held 2"]).unwrap();
        queue.push_before(5, vec!["held 3"]).unwrap();
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec!["held 3", "held 1", "held 2", "due", "later"]);
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
