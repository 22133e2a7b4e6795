//! Where vigie reads the host from: `--path.procfs`, `--path.sysfs` and
//! `--path.rootfs`, carried in one value rather than globals so that tests
//! (and several collectors at once) can point at fixture trees.

use std::io;
use std::path::{Component, Path, PathBuf};

/// The roots of the host view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// procfs mount point (`/proc` on the host, `/host/proc` in a container).
    pub procfs: PathBuf,
    /// sysfs mount point.
    pub sysfs: PathBuf,
    /// The host's root filesystem (`/`, or where the host's `/` is mounted).
    pub rootfs: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            procfs: PathBuf::from("/proc"),
            sysfs: PathBuf::from("/sys"),
            rootfs: PathBuf::from("/"),
        }
    }
}

/// Symlinks followed at most, as the kernel's own limit (ELOOP).
const MAX_SYMLINKS: usize = 40;

impl Paths {
    /// A file under procfs, e.g. `proc("meminfo")`.
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.procfs.join(rel)
    }

    /// A file under sysfs.
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// Where the host path `host` (absolute, as the host sees it) is found
    /// from here, without following symlinks: `{rootfs}{host}`.
    pub fn under_rootfs(&self, host: &Path) -> PathBuf {
        let rel = host.strip_prefix("/").unwrap_or(host);
        if rel.as_os_str().is_empty() {
            self.rootfs.clone()
        } else {
            self.rootfs.join(rel)
        }
    }

    /// Resolves the host path `host` the way the host kernel would, but
    /// inside `rootfs`: `.` and `..` are folded, and every symlink is followed
    /// with absolute targets taken relative to `rootfs` (so `/var/run ->
    /// /run` stays inside the host tree when vigie runs in a container).
    ///
    /// Returns the resolved host path (absolute, as the host sees it) and
    /// whether it exists. When a component is missing, the rest is appended
    /// as written: the answer is the path the host would create, which is
    /// what a watched path such as `/var/lib/etcd` on a fresh machine wants.
    pub fn resolve_host_path(&self, host: &Path) -> io::Result<(PathBuf, bool)> {
        let mut resolved = PathBuf::from("/");
        let mut pending: Vec<std::ffi::OsString> = Vec::new();
        push_components(&mut pending, host);
        let mut links = 0usize;
        let mut exists = true;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = resolved.join(&part);
            if !exists {
                resolved = candidate;
                continue;
            }
            match std::fs::symlink_metadata(self.under_rootfs(&candidate)) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(io::Error::other(format!(
                            "too many levels of symbolic links resolving {}",
                            host.display()
                        )));
                    }
                    let target = std::fs::read_link(self.under_rootfs(&candidate))?;
                    if target.is_absolute() {
                        resolved = PathBuf::from("/");
                    }
                    push_components(&mut pending, &target);
                }
                Ok(_) => resolved = candidate,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    exists = false;
                    resolved = candidate;
                }
                Err(e) => return Err(e),
            }
        }
        Ok((resolved, exists))
    }
}

/// Pushes the normal components of `p` onto `stack` so that they pop in order.
fn push_components(stack: &mut Vec<std::ffi::OsString>, p: &Path) {
    let parts: Vec<_> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    stack.extend(parts.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("run")).unwrap();
        std::fs::create_dir_all(root.join("data/etcd")).unwrap();
        std::fs::create_dir_all(root.join("var/lib")).unwrap();
        symlink("/run", root.join("var/run")).unwrap();
        symlink("../../data/etcd", root.join("var/lib/etcd")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        let paths = Paths {
            rootfs: root,
            ..Paths::default()
        };
        (dir, paths)
    }

    #[test]
    fn absolute_symlinks_stay_inside_rootfs() {
        let (_d, p) = tree();
        let (r, exists) = p
            .resolve_host_path(Path::new("/var/run/reboot-required"))
            .unwrap();
        assert_eq!(r, Path::new("/run/reboot-required"));
        assert!(!exists);
    }

    #[test]
    fn relative_symlinks_and_dotdot() {
        let (_d, p) = tree();
        let (r, exists) = p
            .resolve_host_path(Path::new("/var/lib/etcd/member"))
            .unwrap();
        assert_eq!(r, Path::new("/data/etcd/member"));
        assert!(!exists);
        let (r, exists) = p
            .resolve_host_path(Path::new("/var/lib/../lib/etcd"))
            .unwrap();
        assert_eq!(r, Path::new("/data/etcd"));
        assert!(exists);
        let (r, _) = p.resolve_host_path(Path::new("/../../..")).unwrap();
        assert_eq!(r, Path::new("/"));
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let (_d, p) = tree();
        let e = p.resolve_host_path(Path::new("/loop1/x")).unwrap_err();
        assert!(e.to_string().contains("too many levels"), "{e}");
    }

    #[test]
    fn under_rootfs_joins() {
        let p = Paths {
            rootfs: PathBuf::from("/host"),
            ..Paths::default()
        };
        assert_eq!(p.under_rootfs(Path::new("/")), Path::new("/host"));
        assert_eq!(
            p.under_rootfs(Path::new("/var/lib")),
            Path::new("/host/var/lib")
        );
        assert_eq!(
            Paths::default().under_rootfs(Path::new("/var")),
            Path::new("/var")
        );
    }
}
