//! Questions behind "more" buttons. A button's `custom_id` is limited to
//! 100 characters, too short for a question, so the question is kept here
//! under a short key and the button carries only the key, the asker and the
//! offset (see [`super::convert::PageButton`]).
//!
//! Kept in memory, per process: after a restart, or when the button's
//! press reaches another process of the same bot (shards split over
//! processes), old buttons answer "expired, ask again". Keys start at a
//! random number, so a key from another process or from before a restart
//! does not name a different question here; and a question is only handed
//! to the person who asked it.

use crate::search::Question;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a "more" button keeps working.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// At most this many questions are kept; the oldest go first.
pub const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct PageStore {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    next: u64,
    /// Key → (when, asker, question).
    questions: HashMap<u64, (Instant, u64, Question)>,
    order: VecDeque<u64>,
}

impl Default for PageStore {
    fn default() -> Self {
        Self::new()
    }
}

impl PageStore {
    pub fn new() -> Self {
        // Random, with room to count up: two processes (or two runs) would
        // need to draw starts within a few million of each other to collide.
        let seed = rand::random::<u64>() >> 1;
        PageStore {
            inner: Mutex::new(Inner {
                next: seed,
                questions: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// Keeps `question` asked by `asker` (its offset is ignored) and
    /// returns its key.
    pub fn insert(&self, asker: u64, question: &Question, now: Instant) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while inner.order.len() >= CAPACITY
            || inner.order.front().is_some_and(|k| {
                inner
                    .questions
                    .get(k)
                    .is_none_or(|(at, _, _)| now.saturating_duration_since(*at) >= TTL)
            })
        {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            inner.questions.remove(&old);
        }
        let key = inner.next;
        inner.next += 1;
        inner.questions.insert(key, (now, asker, question.clone()));
        inner.order.push_back(key);
        key
    }

    /// The question `asker` asked under `key`, unless it expired, was
    /// never stored here, or was somebody else's.
    pub fn get(&self, key: u64, asker: u64, now: Instant) -> Option<Question> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .questions
            .get(&key)
            .filter(|(at, who, _)| *who == asker && now.saturating_duration_since(*at) < TTL)
            .map(|(_, _, q)| q.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_questions_until_they_expire() {
        let store = PageStore::new();
        let t0 = Instant::now();
        let a = store.insert(7, &Question::new("郭慶怎麼看人才?"), t0);
        let b = store.insert(7, &Question::new("客服中心"), t0);
        assert_ne!(a, b);
        assert_eq!(store.get(a, 7, t0).unwrap().text, "郭慶怎麼看人才?");
        assert_eq!(store.get(b, 7, t0 + TTL / 2).unwrap().text, "客服中心");
        assert!(store.get(a, 7, t0 + TTL).is_none());
        assert!(store.get(a.wrapping_add(100), 7, t0).is_none());
    }

    #[test]
    fn another_process_or_asker_never_gets_the_question() {
        let t0 = Instant::now();
        let here = PageStore::new();
        let there = PageStore::new();
        let key = here.insert(7, &Question::new("客服中心"), t0);
        // Another process (another store) has nothing under that key, even
        // after it stored questions of its own.
        for _ in 0..100 {
            there.insert(7, &Question::new("人才"), t0);
        }
        assert!(there.get(key, 7, t0).is_none());
        // Somebody else's question is not handed out under their key.
        assert!(here.get(key, 8, t0).is_none());
        assert!(here.get(key, 7, t0).is_some());
    }
}
