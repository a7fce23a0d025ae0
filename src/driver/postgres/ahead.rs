//! Catalog queries run ahead on a second connection, for `pull` and `baseline`.
//!
//! Reading a large schema is mostly server work, and one backend does it on one
//! core. The costliest queries that need nothing from the others (the
//! constraints, whose CHECK definitions make the server build a relation cache
//! entry for every table, and the relations the model leaves out) go to a second
//! session that imports the first one's snapshot (`pg_export_snapshot`, as
//! `pg_dump --jobs` does), so both read the very same catalog state while the
//! first session runs the rest.
//!
//! It is only ever a shortcut: when the second session cannot connect or import
//! the snapshot (a connection limit, a pooler, a standby), or has not connected
//! by the time its rows are wanted, the first session runs the query itself and
//! nothing about the result changes. Its errors are never shown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;

use postgres::{Client, Config, Row};

/// One of the queries sent ahead, by its place in the list given to [`Ahead::start`].
pub type QueryId = usize;

enum Message {
    /// The second session has imported the snapshot and is running the queries.
    Ready,
    Rows(QueryId, Vec<Row>),
}

/// The second session, while it runs (or nothing, when it could not start).
pub struct Ahead {
    receiver: Option<Receiver<Message>>,
    ready: bool,
    received: HashMap<QueryId, Vec<Row>>,
    abandoned: Arc<AtomicBool>,
}

impl Ahead {
    /// No second session: every query runs on the first one.
    pub fn none() -> Self {
        Ahead {
            receiver: None,
            ready: false,
            received: HashMap::new(),
            abandoned: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Connects a second session with `config` on a thread of its own, and has
    /// it run `queries` in the snapshot `snapshot` (exported by the caller's
    /// open REPEATABLE READ transaction, which must stay open until every
    /// [`Ahead::take`] has returned).
    pub fn start(config: Config, display: String, snapshot: String, queries: Vec<String>) -> Self {
        let (sender, receiver) = mpsc::channel();
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = abandoned.clone();
        let spawned = std::thread::Builder::new()
            .name("strata-inspect-ahead".into())
            .spawn(move || {
                let Ok(mut client) = super::open(&config, &display) else {
                    return;
                };
                let began = client.batch_execute(&format!(
                    "{}; SET TRANSACTION SNAPSHOT {}",
                    super::BEGIN_SNAPSHOT,
                    crate::driver::quote_literal(&snapshot)
                ));
                if began.is_err() || sender.send(Message::Ready).is_err() {
                    return;
                }
                for (id, sql) in queries.iter().enumerate() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(rows) = client.query(sql.as_str(), &[]) else {
                        break;
                    };
                    if sender.send(Message::Rows(id, rows)).is_err() {
                        break;
                    }
                }
                let _ = client.batch_execute("ROLLBACK");
            });
        Ahead {
            receiver: spawned.is_ok().then_some(receiver),
            ready: false,
            received: HashMap::new(),
            abandoned,
        }
    }

    /// The rows of query `id` from the second session, or `None` when the
    /// caller is to run it itself: the second session failed, or has not even
    /// connected yet (waiting for it could cost more than the query).
    pub fn take(&mut self, id: QueryId) -> Option<Vec<Row>> {
        if let Some(rows) = self.received.remove(&id) {
            return Some(rows);
        }
        let receiver = self.receiver.as_ref()?;
        if !self.ready {
            match receiver.try_recv() {
                Ok(Message::Ready) => self.ready = true,
                Ok(Message::Rows(..))
                | Err(TryRecvError::Empty)
                | Err(TryRecvError::Disconnected) => {
                    self.abandon();
                    return None;
                }
            }
        }
        loop {
            match receiver.recv() {
                Ok(Message::Rows(got, rows)) if got == id => return Some(rows),
                Ok(Message::Rows(got, rows)) => {
                    self.received.insert(got, rows);
                }
                Ok(Message::Ready) => {}
                Err(_) => {
                    self.abandon();
                    return None;
                }
            }
        }
    }

    fn abandon(&mut self) {
        self.abandoned.store(true, Ordering::SeqCst);
        self.receiver = None;
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // Whatever it has not run yet is not wanted any more.
        self.abandoned.store(true, Ordering::SeqCst);
    }
}

/// Runs `sql` on `client` unless `ahead` has its rows already.
pub fn query(
    client: &mut Client,
    ahead: &mut Ahead,
    id: QueryId,
    sql: &str,
) -> Result<Vec<Row>, postgres::Error> {
    match ahead.take(id) {
        Some(rows) => Ok(rows),
        None => client.query(sql, &[]),
    }
}
