//! Who and where this process is: the host name (run records, the SMTP greeting, mail headers)
//! and the identity that lock holders and mail claims record, by which a later process on the
//! same host tells a dead holder from a live one.

/// This host's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `unknown`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Who a process is, as lock holders and mail claims record it (`sigov_lock.holder`,
/// `sigov_outbox.claim_token`):
/// `host:pid:boot:pidns:nonce`. `boot` and `pidns` tell whether the holder's pid can be looked
/// up in this host's `/proc` (same kernel boot, same pid namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub host: String,
    pub pid: u32,
    pub boot: String,
    pub pidns: String,
    pub nonce: String,
}

impl Ident {
    pub fn current() -> Ident {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().chars().filter(|c| *c != '-').take(12).collect())
            .unwrap_or_default();
        let pidns = std::fs::read_link("/proc/self/ns/pid")
            .ok()
            .map(|p| {
                p.to_string_lossy()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect()
            })
            .unwrap_or_default();
        let nonce = chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
            .to_string();
        Ident {
            host: hostname().replace(':', "_"),
            pid: std::process::id(),
            boot,
            pidns,
            nonce,
        }
    }

    pub fn encode(&self) -> String {
        let s = format!(
            "{}:{}:{}:{}:{}",
            self.host, self.pid, self.boot, self.pidns, self.nonce
        );
        s.chars().take(255).collect()
    }

    pub fn parse(s: &str) -> Option<Ident> {
        let mut it = s.splitn(5, ':');
        Some(Ident {
            host: it.next()?.to_owned(),
            pid: it.next()?.parse().ok()?,
            boot: it.next()?.to_owned(),
            pidns: it.next()?.to_owned(),
            nonce: it.next()?.to_owned(),
        })
    }

    /// This host's process that this identifies is gone (see `is_dead_local`).
    pub fn is_dead(&self) -> bool {
        self.is_dead_local(&Ident::current())
    }

    /// True only when the holder certainly ran on this host, in this boot and pid namespace,
    /// and its process no longer exists.
    pub fn is_dead_local(&self, me: &Ident) -> bool {
        !self.boot.is_empty()
            && !self.pidns.is_empty()
            && self.host == me.host
            && self.boot == me.boot
            && self.pidns == me.pidns
            && self.pid != me.pid
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}
