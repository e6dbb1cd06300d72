//! A real HTTP/1.1 server on 127.0.0.1 for tests: serves files, honours (or ignores) `Range`,
//! can cut a response short, and records the requests it saw.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub(crate) struct State {
    pub files: HashMap<String, Vec<u8>>,
    pub ignore_range: bool,
    /// path → bytes of body to send before closing the connection (once).
    pub truncate_next: HashMap<String, usize>,
    /// (path, Range header) per request.
    pub requests: Vec<(String, Option<String>)>,
}

pub(crate) struct Server {
    pub base: String,
    pub state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let st = st.clone();
                std::thread::spawn(move || handle(stream, &st));
            }
        });
        Server { base, state }
    }
    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), body);
    }
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn handle(mut s: TcpStream, st: &Mutex<State>) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let range = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("range:"))
        .map(|l| l[6..].trim().to_string());
    let (body, ignore, cut) = {
        let mut g = st.lock().unwrap();
        g.requests.push((path.clone(), range.clone()));
        let cut = g.truncate_next.remove(&path);
        (g.files.get(&path).cloned(), g.ignore_range, cut)
    };
    let Some(body) = body else {
        let _ = s.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        );
        return;
    };
    let start = range
        .as_deref()
        .filter(|_| !ignore)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
    let (status, from) = match start {
        Some(n) if n >= body.len() => {
            let _ = s.write_all(b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        Some(n) => ("206 Partial Content", n),
        None => ("200 OK", 0),
    };
    let mut hdr = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len() - from
    );
    if from > 0 {
        hdr.push_str(&format!(
            "Content-Range: bytes {from}-{}/{}\r\n",
            body.len() - 1,
            body.len()
        ));
    }
    hdr.push_str("\r\n");
    let _ = s.write_all(hdr.as_bytes());
    let payload = &body[from..];
    let n = cut.unwrap_or(payload.len()).min(payload.len());
    let _ = s.write_all(&payload[..n]);
    let _ = s.flush();
    let _ = s.shutdown(std::net::Shutdown::Both);
}
