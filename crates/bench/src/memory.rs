//! This process's resident memory, read from `/proc/self/status` (Linux). The peak can be reset
//! (`/proc/self/clear_refs`, Linux 4.0+) so that a phase's peak is measured apart from the setup
//! before it. Off Linux every figure is `None`.

/// `VmRSS` and `VmHWM` (the peak so far), in KiB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rss {
    pub now_kib: Option<u64>,
    pub peak_kib: Option<u64>,
}

fn field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

pub(crate) fn rss() -> Rss {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Rss {
        now_kib: field(&status, "VmRSS:"),
        peak_kib: field(&status, "VmHWM:"),
    }
}

/// Sets the peak to the current RSS; false when the kernel does not allow it.
pub(crate) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// KiB to MiB, one decimal, for the JSON output.
pub(crate) fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields() {
        let s = "Name:\tx\nVmHWM:\t   12345 kB\nVmRSS:\t    678 kB\n";
        assert_eq!(field(s, "VmHWM:"), Some(12345));
        assert_eq!(field(s, "VmRSS:"), Some(678));
        assert_eq!(field(s, "VmSwap:"), None);
    }
}
