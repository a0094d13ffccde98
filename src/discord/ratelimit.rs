//! Per-user rate limit for questions and speaker summaries (`/ask`,
//! mentions and `/speaker` share one allowance): at most `max` in any window
//! of `window` (a sliding window, so a burst cannot straddle a boundary to
//! get twice the allowance), and the reply that says how long to wait. Pure
//! apart from its lock; time is passed in so the tests do not sleep.

use crate::reply::{self, Reply};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked users, idle ones are forgotten on the next check.
const PRUNE_ABOVE: usize = 10_000;

/// Sliding-window limiter keyed by Discord user id.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    recent: Mutex<HashMap<u64, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// `max == 0` or a zero window turns the limit off.
    pub fn new(max: u32, window: Duration) -> Self {
        RateLimiter {
            max,
            window,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a question of `user` at `now`, or says how long to wait. A
    /// refused question is not counted, so waiting the time given is enough.
    pub fn check(&self, user: u64, now: Instant) -> Result<(), Duration> {
        if self.max == 0 || self.window.is_zero() {
            return Ok(());
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() > PRUNE_ABOVE {
            let window = self.window;
            recent.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|&t| now.saturating_duration_since(t) < window)
            });
        }
        let times = recent.entry(user).or_default();
        while times
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max as usize {
            let oldest = *times.front().expect("len >= max > 0");
            return Err(self.window - now.saturating_duration_since(oldest));
        }
        times.push_back(now);
        Ok(())
    }
}

/// The answer to somebody asking too fast.
pub fn rate_limited(wait: Duration) -> Reply {
    let n = wait_seconds(wait);
    reply::user_error(&format!(
        "問得太快了,請 {n} 秒後再試。\nYou are asking too fast: try again in {n} s."
    ))
}

/// Whole seconds to tell a person to wait: rounded up, at least 1.
pub fn wait_seconds(wait: Duration) -> u64 {
    let s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    s.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_per_window_then_says_how_long_to_wait() {
        let limiter = RateLimiter::new(2, Duration::from_secs(30));
        let t0 = Instant::now();
        assert!(limiter.check(1, t0).is_ok());
        assert!(limiter.check(1, t0 + Duration::from_secs(10)).is_ok());
        let wait = limiter
            .check(1, t0 + Duration::from_secs(12))
            .expect_err("third question within the window");
        assert_eq!(wait, Duration::from_secs(18));
        assert_eq!(wait_seconds(wait), 18);
        // Another user is not affected.
        assert!(limiter.check(2, t0 + Duration::from_secs(12)).is_ok());
        // Once the first question leaves the window, one more is allowed.
        assert!(limiter.check(1, t0 + Duration::from_secs(30)).is_ok());
        assert!(limiter.check(1, t0 + Duration::from_secs(31)).is_err());
    }

    #[test]
    fn zero_turns_it_off_and_waits_round_up() {
        let limiter = RateLimiter::new(0, Duration::from_secs(30));
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(limiter.check(1, t0).is_ok());
        }
        assert_eq!(wait_seconds(Duration::from_millis(1)), 1);
        assert_eq!(wait_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(wait_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn rate_limit_says_when_to_try_again() {
        let r = rate_limited(Duration::from_millis(12_300));
        assert!(r.ephemeral);
        assert!(reply::to_text(&r).contains("try again in 13 s"));
    }
}
