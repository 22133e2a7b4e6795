//! Parsing of `/proc/<pid>/mountinfo` (and the older `/proc/mounts`).

use std::path::PathBuf;

/// One mounted filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted, unescaped (`\040` becomes a space).
    pub mountpoint: PathBuf,
    /// The mount source (`/dev/sda1`, `server:/export`, `tmpfs`).
    pub device: String,
    pub fstype: String,
    /// The mount's own options include `ro`: what was asked for at this
    /// mount point (`mount -o ro`, `mount -o remount,ro`, a read-only bind).
    pub mount_ro: bool,
    /// The superblock's options include `ro`: the filesystem itself refuses
    /// writes. ext4 mounted `errors=remount-ro`, or btrfs after an error,
    /// turns this on and leaves the mount's own options `rw`. From
    /// `/proc/mounts`, which shows one flag for both, it equals `mount_ro`.
    pub super_ro: bool,
    /// The kernel's mount id (mountinfo's first field; 0 from
    /// `/proc/mounts`): the same mount keeps it across a remount, a new
    /// mount gets a new one.
    pub id: u64,
}

impl Mount {
    /// Writes fail through this mount (its own `ro` or its superblock's).
    pub fn read_only(&self) -> bool {
        self.mount_ro || self.super_ro
    }
}

/// Parses mountinfo text. Lines that do not have the expected shape are
/// returned as errors (line number and reason) next to the mounts that parsed,
/// so one odd line never hides the others.
pub fn parse_mountinfo(text: &str) -> (Vec<Mount>, Vec<String>) {
    let mut mounts = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_mountinfo_line(line) {
            Some(m) => mounts.push(m),
            None => errors.push(format!("line {}: unexpected format: {line:?}", i + 1)),
        }
    }
    (mounts, errors)
}

/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // id, parent, major:minor, root, mountpoint, options, [optional...], "-",
    // fstype, source, superoptions
    let sep = fields.iter().skip(6).position(|f| *f == "-")? + 6;
    let mountpoint = fields.get(4)?;
    let options = fields.get(5)?;
    let fstype = fields.get(sep + 1)?;
    // An empty source leaves the line one field short; call it "none".
    let device = fields.get(sep + 2).copied().unwrap_or("none");
    // The superblock's options: ext4 mounted errors=remount-ro shows "ro"
    // there, not in the mount's own options, once it has hit an error.
    let super_ro = fields
        .get(sep + 3)
        .is_some_and(|o| o.split(',').any(|o| o == "ro"));
    Some(Mount {
        mountpoint: PathBuf::from(unescape(mountpoint)),
        device: unescape(device),
        fstype: unescape(fstype),
        mount_ro: options.split(',').any(|o| o == "ro"),
        super_ro,
        id: fields.first()?.parse().ok()?,
    })
}

/// Parses `/proc/mounts` (fstab format): `device mountpoint fstype options 0 0`.
pub fn parse_mounts(text: &str) -> (Vec<Mount>, Vec<String>) {
    let mut mounts = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            errors.push(format!("line {}: unexpected format: {line:?}", i + 1));
            continue;
        }
        let ro = f[3].split(',').any(|o| o == "ro");
        mounts.push(Mount {
            device: unescape(f[0]),
            mountpoint: PathBuf::from(unescape(f[1])),
            fstype: unescape(f[2]),
            mount_ro: ro,
            super_ro: ro,
            id: 0,
        });
    }
    (mounts, errors)
}

/// Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012`
/// newline, `\134` backslash). Anything else is kept as written.
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(unescape(r"a\011b\012c\134d"), "a\tb\nc\\d");
        assert_eq!(unescape(r"trailing\04"), r"trailing\04");
        assert_eq!(unescape(r"\777x"), r"\777x");
        assert_eq!(unescape("plain"), "plain");
    }

    #[test]
    fn mountinfo_line_with_optional_fields_and_spaces() {
        let text = "36 35 98:0 /mnt1 /mnt/backup\\040disk rw,noatime master:1 shared:2 - ext4 /dev/sdb1 rw,errors=continue\n\
                    37 35 98:1 / /ro ro,relatime - xfs /dev/sdc1 ro\n\
                    39 35 8:2 / /remounted rw,relatime - ext4 /dev/sda2 ro,errors=remount-ro\n\
                    garbage line\n\
                    38 35 0:5 / /nosrc rw - fuse.x\n";
        let (m, errs) = parse_mountinfo(text);
        assert_eq!(m.len(), 4, "{m:?}");
        // ext4 after an error: the superblock is ro, the mount still rw.
        assert!(m[2].read_only());
        assert!(m[2].super_ro && !m[2].mount_ro, "{:?}", m[2]);
        assert_eq!(m[2].id, 39);
        assert_eq!(m[0].mountpoint, PathBuf::from("/mnt/backup disk"));
        assert_eq!(m[0].device, "/dev/sdb1");
        assert_eq!(m[0].fstype, "ext4");
        assert!(!m[0].read_only());
        // Mounted read-only by its owner: both ro.
        assert!(m[1].mount_ro && m[1].super_ro);
        assert_eq!(m[3].device, "none");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("line 4:"), "{errs:?}");
    }
}
