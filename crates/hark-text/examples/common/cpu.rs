//! CPU time of this process and of its reaped children (for the benchmark examples).

/// (own CPU seconds, children's CPU seconds) from /proc/self/stat (Linux; zeros elsewhere).
pub fn cpu() -> (f64, f64) {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    let f: Vec<&str> = s
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let n = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    // fields after the command: state=0, utime=11, stime=12, cutime=13, cstime=14
    (n(11) + n(12), n(13) + n(14))
}
