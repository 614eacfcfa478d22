//! `rally serve --record FILE`: every StartMatchmaking, StopMatchmaking, AcceptMatch and
//! StartMatchBackfill the service receives, refused ones too, appended to a JSON Lines trace
//! with its arrival time (seconds since the server started) — the file `rally simulate` and
//! `rally loadgen --trace` replay. Lines are written by a thread of their own, so an RPC
//! never waits on the disk; they are in the order the engine saw the commands.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use rally_base::Seconds;
use rally_engine::Command;
use rally_engine::trace::{TraceEntry, write_line};

/// The recording of one server run.
#[derive(Debug)]
pub struct Recorder {
    lines: Option<Sender<String>>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
}

impl Recorder {
    /// Appends to `path` (created if missing).
    pub fn open(path: &Path) -> std::io::Result<Recorder> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let (lines, received) = channel();
        let writer = std::thread::Builder::new()
            .name("rally-record".into())
            .spawn(move || write_all(BufWriter::new(file), &received))?;
        Ok(Recorder {
            lines: Some(lines),
            writer: Some(writer),
        })
    }

    /// Records a command that arrived at `t`.
    pub fn record(&self, t: Seconds, command: &Command) {
        let line = write_line(&TraceEntry {
            t,
            command: command.clone(),
        });
        if let Some(lines) = &self.lines {
            // A writer that failed has logged why; the service serves on without it.
            let _ = lines.send(line);
        }
    }

    /// Writes what is queued and closes the file.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.close()
    }

    fn close(&mut self) -> std::io::Result<()> {
        drop(self.lines.take());
        match self.writer.take() {
            Some(writer) => writer.join().unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "the recording could not be written");
        }
    }
}

/// Writes lines as they come, flushing whenever the queue runs dry.
fn write_all(mut out: BufWriter<File>, lines: &Receiver<String>) -> std::io::Result<()> {
    while let Ok(line) = lines.recv() {
        writeln!(out, "{line}")?;
        while let Ok(line) = lines.try_recv() {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    out.flush()
}
