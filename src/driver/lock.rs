//! strata's migration lock as a guard: taken by [`LockGuard::take`], released
//! when the guard is dropped, so no path (an error, an early return) can forget
//! to unlock. atlas's Locker returns an unlock function; this is the Rust form.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use super::Database;
use crate::Result;

/// The migration lock, held while this lives; derefs to the database it locks.
pub struct LockGuard<'d> {
    database: &'d mut dyn Database,
    held: bool,
}

impl<'d> LockGuard<'d> {
    /// Takes the lock, waiting at most `timeout` (`on_wait` is told once who
    /// holds it).
    pub fn take(
        database: &'d mut dyn Database,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Self> {
        database.take_lock(timeout, on_wait)?;
        Ok(LockGuard {
            database,
            held: true,
        })
    }

    /// Releases the lock now, reporting a failure to do so (dropping the guard
    /// releases it too, but can only ignore such an error).
    pub fn release(mut self) -> Result<()> {
        self.held = false;
        self.database.release_lock()
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if self.held {
            // Nothing to report to on this path (usually an error is already on
            // its way); the connection closing releases the lock in any case.
            let _ = self.database.release_lock();
        }
    }
}

impl<'d> Deref for LockGuard<'d> {
    type Target = dyn Database + 'd;

    fn deref(&self) -> &Self::Target {
        &*self.database
    }
}

impl DerefMut for LockGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut *self.database
    }
}
