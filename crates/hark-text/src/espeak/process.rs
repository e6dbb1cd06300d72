//! One long-lived `espeak-ng` program per voice, fed line by line.
//!
//! espeak-ng is GPL, so it is never linked: it runs as a child process
//! (`espeak-ng -q --ipa --tie=^ -s 449 -v VOICE`) that reads text on stdin one line at a time
//! and writes the phonemes of each clause as one line on stdout, flushed after every input
//! line. Each request line is followed by a sentinel line, `[[kxkx]]` (espeak's phoneme-input
//! syntax), whose output `kxkx` no text can produce (no language here reads a clause as four
//! bare consonants, and `[[` is escaped in the text): the lines before it are the request
//! line's clauses. The process starts on first use and is started again when it died, hung
//! (no answer for [`TIMEOUT`]) or answered out of step.
//!
//! The speed (`-s 449`, espeak's fastest without its `sonic` stage) does not change the
//! phonemes; it only makes the unused waveform shorter to compute (about half the CPU of the
//! default 175 words per minute).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};

/// Finds `espeak-ng` on PATH.
pub fn find_espeak() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("espeak-ng"))
        .find(|p| p.is_file())
}

/// The sentinel line sent after every request line, and what espeak-ng prints for it.
const SENTINEL: &str = "[[kxkx]]";
const SENTINEL_OUT: &str = "kxkx";
/// espeak-ng reads stdin with a 1000-byte `fgets`; longer lines are sent in parts cut at
/// spaces, so that no word is cut.
const MAX_LINE: usize = 900;
/// Input written before reading the answers: small enough to fit a pipe's buffer on every
/// system, so writing never waits for espeak-ng while espeak-ng waits for us to read.
const BATCH_BYTES: usize = 4096;
/// How long one line may take before the process counts as hung.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// A running espeak-ng and the thread that reads its stdout.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

impl Running {
    fn start(exe: &Path, voice: &str) -> std::io::Result<Running> {
        let mut child = Command::new(exe)
            .args(["-q", "--ipa", "--tie=^", "-s", "449", "-v", voice])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| other("no stdout"))?;
        let (tx, lines) = mpsc::channel();
        let reader = std::thread::Builder::new()
            .name("espeak-ng reader".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let stdin = child.stdin.take();
        let mut run = Running {
            child,
            stdin,
            lines,
            reader: Some(reader),
        };
        // The first answer proves the voice loaded and the framing holds.
        let out = run.ask(&[String::new()])?;
        if out.len() != 1 {
            return Err(other("espeak-ng did not answer"));
        }
        Ok(run)
    }

    /// Sends `lines` (already clean: one line each, short, no phoneme brackets) and returns the
    /// output of each, clauses joined by a space.
    fn ask(&mut self, lines: &[String]) -> std::io::Result<Vec<String>> {
        let mut out = Vec::with_capacity(lines.len());
        let mut start = 0;
        while start < lines.len() {
            let mut end = start;
            let mut input = String::new();
            while end < lines.len()
                && (end == start || input.len() + lines[end].len() < BATCH_BYTES)
            {
                input.push_str(&lines[end]);
                input.push('\n');
                input.push_str(SENTINEL);
                input.push('\n');
                end += 1;
            }
            let stdin = self.stdin.as_mut().ok_or_else(|| other("stdin closed"))?;
            stdin.write_all(input.as_bytes())?;
            stdin.flush()?;
            for _ in start..end {
                let mut clauses = String::new();
                loop {
                    let line = match self.lines.recv_timeout(TIMEOUT) {
                        Ok(l) => l,
                        Err(RecvTimeoutError::Timeout) => {
                            return Err(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "espeak-ng did not answer in time",
                            ))
                        }
                        Err(RecvTimeoutError::Disconnected) => {
                            return Err(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "espeak-ng exited",
                            ))
                        }
                    };
                    let line = line.trim();
                    if line == SENTINEL_OUT {
                        break;
                    }
                    if !line.is_empty() {
                        if !clauses.is_empty() {
                            clauses.push(' ');
                        }
                        clauses.push_str(line);
                    }
                }
                out.push(clauses);
            }
            start = end;
        }
        Ok(out)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Closing stdin ends espeak-ng; the kill covers one that hangs.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn other(msg: &str) -> std::io::Error {
    std::io::Error::other(msg.to_string())
}

/// One espeak-ng process for one voice, started on first use and restarted when it fails.
/// `Send + Sync`: requests from several threads take turns.
pub(crate) struct Espeak {
    exe: PathBuf,
    voice: &'static str,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for Espeak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Espeak")
            .field("exe", &self.exe)
            .field("voice", &self.voice)
            .finish()
    }
}

impl Espeak {
    /// A process handle for `voice`; nothing starts until the first request.
    pub(crate) fn new(exe: PathBuf, voice: &'static str) -> Espeak {
        Espeak {
            exe,
            voice,
            running: Mutex::new(None),
        }
    }

    /// The program.
    pub(crate) fn exe(&self) -> &Path {
        &self.exe
    }

    /// Starts the process now (if it is not running), so that a missing voice or a broken
    /// install shows as an error here rather than as silence later. espeak-ng itself reads a
    /// voice it does not have with its default (English) one, so the voice list is checked.
    pub(crate) fn start(&self) -> Result<()> {
        if !self.has_voice() {
            return Err(Error::Espeak {
                voice: self.voice.to_string(),
                detail: format!(
                    "{} has no voice {:?} (`espeak-ng --voices={}` lists none)",
                    self.exe.display(),
                    self.voice,
                    self.voice
                ),
            });
        }
        let mut guard = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(self.spawn()?);
        }
        Ok(())
    }

    /// Whether `espeak-ng --voices=VOICE` lists the voice itself (not only an mbrola one).
    fn has_voice(&self) -> bool {
        let Ok(out) = Command::new(&self.exe)
            .arg(format!("--voices={}", self.voice))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
        else {
            return false;
        };
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() >= 5 && cols[1] == self.voice && !cols[4].starts_with("mb/")
            })
    }

    fn spawn(&self) -> Result<Running> {
        Running::start(&self.exe, self.voice).map_err(|e| Error::Espeak {
            voice: self.voice.to_string(),
            detail: self.diagnose(&e),
        })
    }

    /// Why the program would not start, in its own words when it gives some.
    fn diagnose(&self, e: &std::io::Error) -> String {
        let probe = Command::new(&self.exe)
            .args(["-q", "--ipa", "-v", self.voice, SENTINEL])
            .stdin(Stdio::null())
            .output();
        match probe {
            Ok(o) if !o.stderr.is_empty() => {
                format!("{e}: {}", String::from_utf8_lossy(&o.stderr).trim())
            }
            _ => e.to_string(),
        }
    }

    /// The phonemes of each text (one espeak-ng input line each; line breaks and control
    /// characters count as spaces), espeak's clauses joined by a space. A process that fails
    /// is replaced and the request tried once more.
    pub(crate) fn phonemize(&self, texts: &[String]) -> Result<Vec<String>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // Long texts go as several lines; `parts[i]` is how many lines text i took.
        let mut lines = Vec::with_capacity(texts.len());
        let mut parts = Vec::with_capacity(texts.len());
        for t in texts {
            let before = lines.len();
            split_line(&clean(t), &mut lines);
            parts.push(lines.len() - before);
        }
        let mut guard = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mut tries = 0;
        let outs = loop {
            tries += 1;
            if guard.is_none() {
                *guard = Some(self.spawn()?);
            }
            let run = guard.as_mut().expect("just started");
            match run.ask(&lines) {
                Ok(o) => break o,
                Err(e) => {
                    // Drop the failed process (killed and reaped) and start afresh.
                    *guard = None;
                    tracing::warn!(voice = self.voice, "espeak-ng failed ({e}); restarting it");
                    if tries >= 2 {
                        return Err(Error::Espeak {
                            voice: self.voice.to_string(),
                            detail: e.to_string(),
                        });
                    }
                }
            }
        };
        let mut it = outs.into_iter();
        Ok(parts
            .into_iter()
            .map(|n| {
                let mut s = String::new();
                for o in it.by_ref().take(n) {
                    if !o.is_empty() {
                        if !s.is_empty() {
                            s.push(' ');
                        }
                        s.push_str(&o);
                    }
                }
                s
            })
            .collect())
    }

    /// Stops the process (a later request starts it again); for tests of the restart.
    #[cfg(test)]
    fn kill(&self) {
        if let Some(r) = self.running.lock().unwrap().as_mut() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

/// One input line: no line breaks or control characters, and no `[[` (espeak's phoneme
/// input, which would also let text fake the sentinel).
fn clean(t: &str) -> String {
    let mut s: String = t
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    while s.contains("[[") {
        s = s.replace("[[", "[ [");
    }
    s
}

/// Cuts `line` into parts of at most [`MAX_LINE`] bytes at spaces (or at a char boundary when
/// a single word is longer).
fn split_line(line: &str, out: &mut Vec<String>) {
    let mut rest = line.trim();
    if rest.is_empty() {
        out.push(String::new());
        return;
    }
    while !rest.is_empty() {
        if rest.len() <= MAX_LINE {
            out.push(rest.to_string());
            break;
        }
        let mut cut = MAX_LINE;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let at = rest[..cut].rfind(' ').filter(|&p| p > 0).unwrap_or(cut);
        out.push(rest[..at].to_string());
        rest = rest[at..].trim_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn espeak(voice: &'static str) -> Option<Espeak> {
        match find_espeak() {
            Some(exe) => Some(Espeak::new(exe, voice)),
            None => {
                eprintln!("skipping: espeak-ng not installed");
                None
            }
        }
    }

    #[test]
    fn lines_come_back_in_order_with_their_clauses() {
        let Some(e) = espeak("es") else { return };
        let texts: Vec<String> = ["hola", "", "uno. dos", "  ", "adiós"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = e.phonemize(&texts).unwrap();
        assert_eq!(out, ["ˈola", "", "ˈuno ðˈos", "", "aðjˈos"]);
    }

    #[test]
    fn text_cannot_fake_the_sentinel() {
        let Some(e) = espeak("es") else { return };
        let texts: Vec<String> = ["[[kxkx]]", "kxkx", "hola"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = e.phonemize(&texts).unwrap();
        assert_eq!(out.len(), 3);
        assert_ne!(out[0], SENTINEL_OUT);
        assert_ne!(out[1], SENTINEL_OUT);
        assert_eq!(out[2], "ˈola");
    }

    #[test]
    fn a_dead_process_is_restarted() {
        let Some(e) = espeak("it") else { return };
        let one = vec!["ciao".to_string()];
        let first = e.phonemize(&one).unwrap();
        e.kill();
        assert_eq!(e.phonemize(&one).unwrap(), first);
    }

    #[test]
    fn many_lines_and_long_lines() {
        let Some(e) = espeak("fr-fr") else { return };
        // more input than one batch, and a line longer than espeak-ng's 1000-byte reads
        let texts: Vec<String> = (0..600).map(|i| format!("bonjour {i}")).collect();
        let out = e.phonemize(&texts).unwrap();
        assert_eq!(out.len(), 600);
        assert!(
            out.iter().all(|o| o.starts_with("bɔ̃ʒˈuʁ")),
            "{:?}",
            &out[..3]
        );
        let long = vec!["maison ".repeat(300)];
        let out = e.phonemize(&long).unwrap();
        assert_eq!(out[0].split(' ').filter(|w| !w.is_empty()).count(), 300);
    }

    #[test]
    fn a_missing_program_or_voice_is_a_clear_error() {
        let e = Espeak::new(PathBuf::from("/nonexistent/espeak-ng"), "es");
        let err = e.phonemize(&["hola".to_string()]).unwrap_err().to_string();
        assert!(err.contains("espeak-ng"), "{err}");
        let Some(exe) = find_espeak() else { return };
        let e = Espeak::new(exe, "no-such-voice");
        let err = e.start().unwrap_err().to_string();
        assert!(err.contains("has no voice \"no-such-voice\""), "{err}");
    }

    #[test]
    fn split_keeps_words_whole() {
        let mut out = Vec::new();
        split_line(&"palabra ".repeat(250), &mut out);
        assert!(out.len() >= 2);
        assert!(out.iter().all(|l| l.len() <= MAX_LINE));
        assert_eq!(out.iter().map(|l| l.split(' ').count()).sum::<usize>(), 250);
        assert_eq!(clean("a[[[b\nc"), "a[ [ [b c");
    }
}
