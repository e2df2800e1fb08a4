//! A panic inside a run (a node's assertion, an overflow in a check) is a finding about that
//! seed, never a crash of the harness: [`catch`] turns it into a value with its location and
//! message, and keeps the default hook from printing a backtrace for it. Panics outside a run
//! still reach the previous hook as usual.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// True while this thread runs a simulation under [`catch`].
    static INSIDE_RUN: Cell<bool> = const { Cell::new(false) };
    /// The location and message of the last panic caught on this thread.
    static CAUGHT: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs, once per process, a hook that records a panic raised inside a run (on whichever
/// thread runs it) and hands every other panic to the hook that was there before.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !INSIDE_RUN.with(Cell::get) {
                return previous(info);
            }
            let location =
                info.location().map_or_else(|| "unknown location".to_string(), |l| l.to_string());
            let message = info.payload_as_str().unwrap_or("(a panic with no message)").to_string();
            CAUGHT.with(|caught| *caught.borrow_mut() = Some((location, message)));
        }));
    });
}

/// Runs `f`; a panic inside it comes back as `Err((location, message))`, printed by no one.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, (String, String)> {
    install_hook();
    let was_inside = INSIDE_RUN.with(|inside| inside.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    INSIDE_RUN.with(|inside| inside.set(was_inside));
    result.map_err(|payload| {
        CAUGHT.with(|caught| caught.borrow_mut().take()).unwrap_or_else(|| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic with no message)".to_string());
            ("unknown location".to_string(), message)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_gives_its_location_and_message() {
        let (location, message) = catch(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(message, "boom 7");
        assert!(location.starts_with("sim/src/panic.rs:"), "{location}");
        assert_eq!(catch(|| 5), Ok(5));
    }

    #[test]
    #[cfg(debug_assertions)] // overflow checks are on in debug builds only
    fn an_overflow_is_caught_like_any_panic() {
        let zero = std::hint::black_box(0u64);
        let (_, message) = catch(|| zero - 1).unwrap_err();
        assert!(message.contains("overflow"), "{message}");
    }
}
