//! Least privilege for `vigie serve`: the process that parses HTTP keeps
//! smartctl's capabilities (CAP_SYS_RAWIO, CAP_SYS_ADMIN, and
//! CAP_DAC_OVERRIDE to open the disk devices, instead of the `disk` group
//! that the whole process would hold) permitted but never
//! effective; each smartctl child gets them back as ambient capabilities,
//! raised between fork and exec, so only smartctl can use them.
//!
//! The systemd unit grants them with `AmbientCapabilities=`, which makes
//! them effective in vigie at exec: [`drop_effective`] runs first thing in
//! `main`, before any thread exists (capabilities are per thread and
//! threads inherit them), and [`raise_for_child`] runs in smartctl's
//! `pre_exec`. Raw system calls only: no allocation after fork. Also the
//! descriptor limit, raised for the HTTP server's connections.

use std::sync::atomic::{AtomicU64, Ordering};

const CAP_DAC_OVERRIDE: u32 = 1;
const CAP_DAC_READ_SEARCH: u32 = 2;
const CAP_SYS_RAWIO: u32 = 17;
const CAP_SYS_ADMIN: u32 = 21;

/// What smartctl needs (see deploy/vigie.service).
const CHILD_CAPS: [(u32, &str); 3] = [
    (CAP_SYS_RAWIO, "CAP_SYS_RAWIO"),
    (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
    (CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"),
];

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const PR_CAP_AMBIENT: libc::c_int = 47;
const PR_CAP_AMBIENT_RAISE: libc::c_ulong = 2;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;

#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The capabilities raised as ambient in each smartctl child (bit mask).
static FOR_CHILD: AtomicU64 = AtomicU64::new(0);

fn capget() -> std::io::Result<[Data; 2]> {
    let mut h = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut d = [Data::default(); 2];
    // SAFETY: capget writes two Data structs for version 3.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(d)
}

fn capset(d: &[Data; 2]) -> std::io::Result<()> {
    let mut h = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: capset reads two Data structs for version 3.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn has(d: &[Data; 2], field: fn(&Data) -> u32, cap: u32) -> bool {
    field(&d[(cap / 32) as usize]) & (1 << (cap % 32)) != 0
}

/// What [`drop_effective`] did, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Capabilities that were effective and no longer are.
    pub dropped: Vec<&'static str>,
    /// Capabilities each smartctl child gets back.
    pub for_child: Vec<&'static str>,
}

/// Clears this thread's effective and ambient capabilities, keeping the
/// permitted and inheritable ones so that smartctl children can get
/// theirs back. As root, CAP_DAC_READ_SEARCH stays effective (read-only
/// access to mount points below private directories); smartctl, run by
/// root, gets root's capabilities at exec anyway. Call before any thread
/// is started.
pub fn drop_effective() -> std::io::Result<Dropped> {
    let mut d = capget()?;
    let mut out = Dropped::default();
    let mut mask = 0u64;
    for (cap, name) in CHILD_CAPS {
        if has(&d, |x| x.permitted, cap) && has(&d, |x| x.inheritable, cap) {
            mask |= 1 << cap;
            out.for_child.push(name);
        }
    }
    let keep = if nix::unistd::geteuid().is_root() {
        1u32 << CAP_DAC_READ_SEARCH
    } else {
        0
    };
    for (cap, name) in CHILD_CAPS {
        if has(&d, |x| x.effective, cap) && keep & (1 << cap) == 0 {
            out.dropped.push(name);
        }
    }
    d[0].effective &= keep;
    d[1].effective = 0;
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    }
    capset(&d)?;
    FOR_CHILD.store(mask, Ordering::Relaxed);
    Ok(out)
}

/// In a smartctl child, between fork and exec: raises smartctl's
/// capabilities as ambient so that exec keeps them (permitted and
/// effective in the child only). Async-signal-safe: prctl calls only.
pub fn raise_for_child() -> std::io::Result<()> {
    let mask = FOR_CHILD.load(Ordering::Relaxed);
    for (cap, _) in CHILD_CAPS {
        if mask & (1 << cap) != 0 {
            // SAFETY: prctl with integer arguments.
            let r = unsafe {
                libc::prctl(
                    PR_CAP_AMBIENT,
                    PR_CAP_AMBIENT_RAISE,
                    libc::c_ulong::from(cap),
                    0,
                    0,
                )
            };
            if r != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (at most 65,536): up to
/// `--web.max-connections` connections each hold a descriptor. Failure
/// (a seccomp filter, a container) leaves the limit as it was.
pub fn raise_nofile() {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            let want = l.rlim_max.min(65_536);
            if want > l.rlim_cur {
                l.rlim_cur = want;
                libc::setrlimit(libc::RLIMIT_NOFILE, &l);
            }
        }
    }
}
