//! The catalogue of alerts `gen-rules` writes: for each, the signal of the
//! thresholds file it reads (whose levels, scale and series labels are in
//! [`crate::thresholds::catalogue`]), the function of [`crate::promql::signals`] that
//! gives its value, its text in English and French, and how to build test
//! series that give a chosen value.

#[macro_use]
mod dns_text;

pub use dns_text::{DNS_EACH_EN, DNS_EACH_FR, DNS_PROBE_EN, DNS_PROBE_FR, dns_what, render_dns};

use crate::promql::signals::{metric::*, *};
use crate::promql::{Expr, Scope, Windows};
use crate::thresholds::catalogue::{Signal, signal};

/// Text of one alert in one language. `{{ $labels.x }}` and
/// `{{ printf "%.1f" $value }}` are the only template parts used, so tests
/// can render them exactly.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub summary: &'static str,
    pub description: &'static str,
}

impl AlertSpec {
    /// The signal of the catalogue this alert reads.
    pub fn sig(&self) -> &'static Signal {
        signal(self.signal).expect("every alert reads a signal of the catalogue (tested)")
    }
}

/// One alert of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct AlertSpec {
    pub name: &'static str,
    /// The thresholds signal (`filesystem.free_percent`).
    pub signal: &'static str,
    /// The value compared with the levels (a function of [`crate::promql::signals`]).
    pub value: fn(&Scope) -> Expr,
    /// Input series for tests: (metric, (start, step per minute) as a
    /// function of the wanted value `v` and of the evaluation time in
    /// seconds). They carry the labels of the signal's [`crate::thresholds::catalogue::Series`], as the
    /// alert does.
    pub inputs: &'static [Input],
    pub en: Text,
    pub fr: Text,
    /// For filesystem alerts whose text shows the bytes left ([`crate::avail!`]):
    /// those bytes in the test series, from `v` and the evaluation time.
    pub avail: Option<fn(f64, f64) -> f64>,
    /// A condition the value must also meet at a level (`"warning"`,
    /// `"critical"`), joined on the filesystem: the free-space floor.
    pub gate: Option<fn(&Scope, &str) -> Expr>,
    /// How much history the value needs before it can fire (seconds), for
    /// the length of its tests.
    pub history: Option<fn(&Windows) -> u64>,
}

/// Template text: the filesystem's available bytes, humanized
/// (`32.96MiB`), read with the `query` template function.
#[macro_export]
macro_rules! avail {
    () => {
        "{{ with printf \"vigie_filesystem_avail_bytes{instance=%q,mountpoint=%q}\" $labels.instance $labels.mountpoint | query }}{{ . | first | value | humanize1024 }}B{{ end }}"
    };
}

/// The template snippet of [`crate::avail!`].
pub const AVAIL: &str = avail!();

/// One input series of a test: metric, and its (start, step per minute)
/// for a wanted value and an evaluation time.
pub type Input = (&'static str, fn(f64, f64) -> (f64, f64));

fn id(v: f64, _: f64) -> (f64, f64) {
    (v, 0.0)
}
fn one(_: f64, _: f64) -> (f64, f64) {
    (1.0, 0.0)
}
fn two(_: f64, _: f64) -> (f64, f64) {
    (2.0, 0.0)
}
fn zero(_: f64, _: f64) -> (f64, f64) {
    (0.0, 0.0)
}
fn one_minus(v: f64, _: f64) -> (f64, f64) {
    (1.0 - v, 0.0)
}
fn twice(v: f64, _: f64) -> (f64, f64) {
    (2.0 * v, 0.0)
}
fn percent_of_ratio(v: f64, _: f64) -> (f64, f64) {
    (v / 100.0, 0.0)
}
fn thousand(_: f64, _: f64) -> (f64, f64) {
    (1000.0, 0.0)
}
fn tenfold(v: f64, _: f64) -> (f64, f64) {
    (v * 10.0, 0.0)
}
/// A counter growing `v` per second.
fn counter_rate(v: f64, _: f64) -> (f64, f64) {
    (0.0, v * 60.0)
}
/// Available bytes falling 6000 per minute (100/s), full `v` days after the
/// evaluation time.
fn falling_avail(v: f64, eval: f64) -> (f64, f64) {
    (v * 86400.0 * 100.0 + eval * 100.0, -6000.0)
}
/// A counter that grows by `v` every minute (0: stable at 10).
fn growing(v: f64, _: f64) -> (f64, f64) {
    (10.0, v)
}

/// A timestamp `v` days before the evaluation time.
fn days_before_eval(v: f64, eval: f64) -> (f64, f64) {
    (eval - v * 86400.0, 0.0)
}

/// Every threshold alert. (Alerts that are not a comparison of one value,
/// such as the Watchdog or the target being down, are written by
/// [`super::rules`] directly.)
pub const ALERTS: &[AlertSpec] = &[
    AlertSpec {
        name: "VigieFilesystemAlmostFull",
        signal: "filesystem.free_percent",
        // At the day's lowest (a nightly burst keeps it low all day rather
        // than resolving each morning), and only under the level's floor
        // of free bytes.
        value: free_percent_low,
        // avail = 10 v out of 1000 bytes: v% free.
        inputs: &[(FS_SIZE, thousand), (FS_AVAIL, tenfold)],
        en: Text {
            summary: concat!(
                "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} fell to {{ printf \"%.1f\" $value }}% free space within the last day (",
                avail!(),
                " free now)."
            ),
            description: "Applications writing to {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }}, and the nightly backups, fail as soon as it is full. First free space: old backups, logs, caches, trash (du -xh --max-depth=2 {{ $labels.mountpoint }}); then plan to grow the disk.",
        },
        fr: Text {
            summary: concat!(
                "Le système de fichiers {{ $labels.mountpoint }} de {{ $labels.instance }} est descendu à {{ printf \"%.1f\" $value }} % d'espace libre dans la dernière journée (",
                avail!(),
                " libres maintenant)."
            ),
            description: "Les applications qui écrivent sur {{ $labels.mountpoint }} ({{ $labels.device }}) de {{ $labels.instance }}, et les sauvegardes de la nuit, échouent dès qu'il est plein. D'abord libérer de la place : vieilles sauvegardes, journaux, caches, corbeilles (du -xh --max-depth=2 {{ $labels.mountpoint }}) ; puis prévoir d'agrandir le disque.",
        },
        avail: Some(avail_tenfold),
        gate: Some(free_floor),
        history: None,
    },
    AlertSpec {
        name: "VigieFilesystemFillingUp",
        signal: "filesystem.full_in",
        // The day's lowest free space over the rate the day's highest fell
        // over the trend window (bursts do not move it), in days; 0 when full.
        value: days_until_full,
        inputs: &[(FS_AVAIL, falling_avail)],
        en: Text {
            summary: concat!(
                "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} will be full in about {{ printf \"%.1f\" $value }} days at the rate it has been filling (",
                avail!(),
                " left)."
            ),
            description: "It has been losing free space for days (0 days: it is full now, and stays in this alert until it has room again): free space before it runs out (old backups, logs, caches, trash), or grow the disk. Find what grows with du -xh --max-depth=2 {{ $labels.mountpoint }}.",
        },
        fr: Text {
            summary: concat!(
                "Le système de fichiers {{ $labels.mountpoint }} de {{ $labels.instance }} sera plein dans environ {{ printf \"%.1f\" $value }} jours au rythme où il se remplit (reste ",
                avail!(),
                ")."
            ),
            description: "Il perd de la place depuis des jours (0 jour : il est plein, et l'alerte reste jusqu'à ce qu'il ait de nouveau de la place) : libérer de la place avant qu'il n'en manque (vieilles sauvegardes, journaux, caches, corbeilles) ou agrandir le disque. Trouver ce qui grossit avec du -xh --max-depth=2 {{ $labels.mountpoint }}.",
        },
        avail: Some(avail_at_eval),
        gate: None,
        history: Some(|w| w.trend_secs + w.day_secs),
    },
    AlertSpec {
        name: "VigieFilesystemReadOnly",
        signal: "filesystem.readonly",
        // Read-only against its mount options, or after having been
        // writable; never a filesystem mounted read-only on purpose.
        value: readonly_unexpected,
        // v = 1: the superblock is read-only under a rw mount (ext4 after
        // an error); v = 0: mounted read-only by its owner (both ro).
        inputs: &[
            (FS_SUPERBLOCK_READONLY, one),
            (FS_MOUNT_READONLY, one_minus),
            (FS_READONLY, one),
            (FS_TURNED_READONLY, zero),
        ],
        en: Text {
            summary: "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} went read-only: every write there fails now.",
            description: "It refuses writes although it is mounted rw, or it was writable and turned read-only: usually the kernel remounted it after disk errors (ext4 errors=remount-ro). First read the kernel log (dmesg | grep -i -e error -e remount), then check the disk (smartctl -a) and the filesystem before remounting it rw. If it was made read-only on purpose, say so in a thresholds override (readonly: {enabled: false}) with the reason.",
        },
        fr: Text {
            summary: "Le système de fichiers {{ $labels.mountpoint }} ({{ $labels.device }}) de {{ $labels.instance }} est passé en lecture seule : toute écriture y échoue maintenant.",
            description: "Il refuse les écritures alors qu'il est monté rw, ou il était accessible en écriture et ne l'est plus : en général le noyau l'a remonté après des erreurs disque (ext4 errors=remount-ro). D'abord lire le journal du noyau (dmesg | grep -i -e error -e remount), puis vérifier le disque (smartctl -a) et le système de fichiers avant de le remonter en rw. S'il a été mis en lecture seule exprès, le dire dans une exception du fichier de seuils (readonly: {enabled: false}) avec la raison.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieFilesystemStatFailing",
        signal: "filesystem.stuck",
        value: filesystem_stuck,
        inputs: &[(FS_STAT_ERROR, id)],
        en: Text {
            summary: "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} does not answer statfs (a stuck mount): every program touching it hangs now, and its free-space alerts are blind.",
            description: "Often an NFS or network mount whose server is gone. First check the server and the network (mount | grep {{ $labels.mountpoint }}; timeout 5 df {{ $labels.mountpoint }}); if the server will not come back, unmount it (umount -f -l {{ $labels.mountpoint }}) and restart the services that hang on it.",
        },
        fr: Text {
            summary: "Le système de fichiers {{ $labels.mountpoint }} ({{ $labels.device }}) de {{ $labels.instance }} ne répond plus à statfs (montage bloqué) : tout programme qui y touche se bloque dès maintenant, et ses alertes d'espace libre sont aveugles.",
            description: "Souvent un montage NFS ou réseau dont le serveur a disparu. D'abord vérifier le serveur et le réseau (mount | grep {{ $labels.mountpoint }} ; timeout 5 df {{ $labels.mountpoint }}) ; si le serveur ne revient pas, démonter (umount -f -l {{ $labels.mountpoint }}) et redémarrer les services bloqués dessus.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigiePathUnresolved",
        signal: "filesystem.path_unresolved",
        value: path_unresolved,
        inputs: &[(PATH_RESOLVE_ERROR, id)],
        en: Text {
            summary: "Watched path {{ $labels.path }} ({{ $labels.role }}) on {{ $labels.instance }} no longer resolves: its filesystem has fallen back to the generic levels, so a fill there would alert late (not an outage yet).",
            description: "The directory was moved or removed, or vigie cannot read it. First check it exists (ls -ld {{ $labels.path }}) and read vigie's log (journalctl -u vigie); if the service moved its data, update --collector.filesystem.watch-path.",
        },
        fr: Text {
            summary: "Le chemin surveillé {{ $labels.path }} ({{ $labels.role }}) de {{ $labels.instance }} ne se résout plus : son système de fichiers est retombé aux seuils génériques, un remplissage y serait signalé tard (pas encore de panne).",
            description: "Le répertoire a été déplacé ou supprimé, ou vigie ne peut pas le lire. D'abord vérifier qu'il existe (ls -ld {{ $labels.path }}) et lire le journal de vigie (journalctl -u vigie) ; si le service a déplacé ses données, mettre à jour --collector.filesystem.watch-path.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieFilesystemInodesRunningOut",
        signal: "filesystem.inodes_free_percent",
        value: inodes_free_percent,
        inputs: &[(FS_FILES, thousand), (FS_FILES_FREE, tenfold)],
        en: Text {
            summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} has only {{ printf \"%.1f\" $value }}% free inodes left.",
            description: "When inodes run out no new file can be created on {{ $labels.mountpoint }} even with free space. First look for directories with millions of small files (sessions, caches, mail queues) and clean them.",
        },
        fr: Text {
            summary: "Le système de fichiers {{ $labels.mountpoint }} de {{ $labels.instance }} n'a plus que {{ printf \"%.1f\" $value }} % d'inodes libres.",
            description: "Sans inode libre, aucun fichier ne peut plus être créé sur {{ $labels.mountpoint }}, même s'il reste de la place. D'abord chercher les répertoires aux millions de petits fichiers (sessions, caches, files de courrier) et les nettoyer.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieSwapAlmostFull",
        signal: "swap.used_percent",
        value: swap_used_percent,
        // 1000 bytes of swap, 1000 - 10 v free: v% used.
        inputs: &[(SWAP_SIZE, thousand), (SWAP_FREE, swap_free)],
        en: Text {
            summary: "Swap on {{ $labels.instance }} is {{ printf \"%.1f\" $value }}% used.",
            description: "{{ $labels.instance }} is short of memory; when swap is full the kernel kills processes. First find the process that grew (top, sorted by memory), restart it, and plan the reboot or more RAM.",
        },
        fr: Text {
            summary: "Le swap de {{ $labels.instance }} est utilisé à {{ printf \"%.1f\" $value }} %.",
            description: "{{ $labels.instance }} manque de mémoire ; swap plein, le noyau tue des processus. D'abord trouver le processus qui a grossi (top, trié par mémoire), le redémarrer, et prévoir le redémarrage ou plus de RAM.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieRebootOverdue",
        signal: "reboot.days_since",
        value: days_since_boot,
        inputs: &[(BOOT_TIME, days_before_eval)],
        en: Text {
            summary: "{{ $labels.instance }} has not been rebooted for {{ printf \"%.0f\" $value }} days.",
            description: "The longer a server runs, the riskier its next reboot (pending updates, swap, forgotten changes). Plan a maintenance reboot at a quiet time, with someone watching.",
        },
        fr: Text {
            summary: "{{ $labels.instance }} n'a pas redémarré depuis {{ printf \"%.0f\" $value }} jours.",
            description: "Plus un serveur tourne longtemps, plus son prochain redémarrage est risqué (mises à jour en attente, swap, modifications oubliées). Prévoir un redémarrage de maintenance à une heure calme, avec quelqu'un pour surveiller.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskFailing",
        signal: "smart.failing",
        value: smart_failing,
        inputs: &[(SMART_HEALTHY, one_minus)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} says it is failing.",
            description: "The disk's own SMART self-assessment failed: it may stop at any time. Check that the backups are recent now, then replace the disk.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} annonce sa propre panne.",
            description: "L'auto-diagnostic SMART du disque a échoué : il peut s'arrêter à tout moment. Vérifier tout de suite que les sauvegardes sont récentes, puis remplacer le disque.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskReallocatedSectors",
        signal: "smart.reallocated_sectors",
        value: |s| smart_value(s, SMART_REALLOCATED),
        inputs: &[(SMART_REALLOCATED, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has reallocated {{ printf \"%.0f\" $value }} sectors.",
            description: "The disk is replacing bad sectors: it is wearing out. First check the backups of what it holds, then plan its replacement; if it keeps growing, replace it now.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a réalloué {{ printf \"%.0f\" $value }} secteurs.",
            description: "Le disque remplace des secteurs défectueux : il s'use. D'abord vérifier les sauvegardes de ce qu'il contient, puis prévoir son remplacement ; si le nombre augmente encore, le remplacer tout de suite.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskPendingSectors",
        signal: "smart.pending_sectors",
        value: |s| smart_value(s, SMART_PENDING),
        inputs: &[(SMART_PENDING, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has {{ printf \"%.0f\" $value }} unreadable sectors waiting to be remapped.",
            description: "Data in those sectors could not be read. First check the backups, then run a long self-test (smartctl -t long) and plan the replacement of the disk.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a {{ printf \"%.0f\" $value }} secteurs illisibles en attente de remplacement.",
            description: "Les données de ces secteurs n'ont pas pu être lues. D'abord vérifier les sauvegardes, puis lancer un test long (smartctl -t long) et prévoir le remplacement du disque.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskOfflineUncorrectable",
        signal: "smart.offline_uncorrectable",
        value: |s| smart_value(s, SMART_OFFLINE_UNCORRECTABLE),
        inputs: &[(SMART_OFFLINE_UNCORRECTABLE, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has {{ printf \"%.0f\" $value }} sectors it cannot read back.",
            description: "Data in those sectors is lost. Check the backups first, then replace the disk.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a {{ printf \"%.0f\" $value }} secteurs qu'il ne peut plus relire.",
            description: "Les données de ces secteurs sont perdues. D'abord vérifier les sauvegardes, puis remplacer le disque.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskReportedUncorrectable",
        signal: "smart.reported_uncorrectable",
        value: |s| smart_value(s, SMART_REPORTED_UNCORRECTABLE),
        inputs: &[(SMART_REPORTED_UNCORRECTABLE, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} reported {{ printf \"%.0f\" $value }} errors it could not correct.",
            description: "Reads failed on this disk. Check the backups, run a long self-test (smartctl -t long) and plan the replacement.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a signalé {{ printf \"%.0f\" $value }} erreurs non corrigées.",
            description: "Des lectures ont échoué sur ce disque. Vérifier les sauvegardes, lancer un test long (smartctl -t long) et prévoir le remplacement.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskCrcErrors",
        signal: "smart.udma_crc_errors",
        value: |s| smart_value(s, SMART_UDMA_CRC),
        inputs: &[(SMART_UDMA_CRC, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has {{ printf \"%.0f\" $value }} transfer (CRC) errors.",
            description: "Usually a bad or loose cable, not the disk itself. Reseat or replace the SATA cable at the next maintenance.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a {{ printf \"%.0f\" $value }} erreurs de transfert (CRC).",
            description: "En général un câble abîmé ou mal branché, pas le disque lui-même. Rebrancher ou changer le câble SATA à la prochaine maintenance.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieNvmeMediaErrors",
        signal: "smart.nvme_media_errors",
        value: |s| smart_value(s, NVME_MEDIA_ERRORS),
        inputs: &[(NVME_MEDIA_ERRORS, id)],
        en: Text {
            summary: "NVMe disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has {{ printf \"%.0f\" $value }} media errors.",
            description: "The flash lost data it could not recover. Check the backups and plan the replacement of the disk.",
        },
        fr: Text {
            summary: "Le disque NVMe {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a {{ printf \"%.0f\" $value }} erreurs de support.",
            description: "La mémoire flash a perdu des données qu'elle n'a pas pu récupérer. Vérifier les sauvegardes et prévoir le remplacement du disque.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieNvmeCriticalWarning",
        signal: "smart.nvme_critical_warning",
        value: nvme_critical_warning,
        inputs: &[(NVME_CRITICAL_WARNING, id)],
        en: Text {
            summary: "NVMe disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} raised a critical warning.",
            description: "See vigie_smart_nvme_critical_warning_bit for which one (spare, temperature, reliability, read-only, backup power). Check the backups first, then plan the replacement.",
        },
        fr: Text {
            summary: "Le disque NVMe {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a levé un avertissement critique.",
            description: "Voir vigie_smart_nvme_critical_warning_bit pour savoir lequel (réserve, température, fiabilité, lecture seule, alimentation de secours). D'abord vérifier les sauvegardes, puis prévoir le remplacement.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieNvmeWornOut",
        signal: "smart.nvme_wear_percent",
        value: nvme_wear_percent,
        inputs: &[(NVME_WEAR, percent_of_ratio)],
        en: Text {
            summary: "NVMe disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has used {{ printf \"%.0f\" $value }}% of its rated endurance.",
            description: "Worn flash fails without warning. Plan its replacement; meanwhile keep the backups current.",
        },
        fr: Text {
            summary: "Le disque NVMe {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a consommé {{ printf \"%.0f\" $value }} % de son endurance prévue.",
            description: "Une mémoire flash usée lâche sans prévenir. Prévoir son remplacement ; d'ici là garder les sauvegardes à jour.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskSelfTestFailed",
        signal: "smart.self_test_failed",
        value: self_test_failed,
        inputs: &[(SMART_SELF_TEST_PASSED, one_minus)],
        en: Text {
            summary: "The last self-test of disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} failed: the disk may lose data at any time.",
            description: "The disk found an error while testing itself. Check the backups first, read smartctl -l selftest {{ $labels.device }} and replace the disk; this stays critical until a new self-test passes.",
        },
        fr: Text {
            summary: "Le dernier auto-test du disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a échoué : le disque peut perdre des données à tout moment.",
            description: "Le disque a trouvé une erreur en se testant. D'abord vérifier les sauvegardes, lire smartctl -l selftest {{ $labels.device }} et remplacer le disque ; l'alerte reste critique jusqu'à ce qu'un nouvel auto-test réussisse.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskHot",
        signal: "smart.temperature_celsius",
        value: |s| smart_value(s, SMART_TEMPERATURE),
        inputs: &[(SMART_TEMPERATURE, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} is at {{ printf \"%.0f\" $value }} °C.",
            description: "Heat shortens a disk's life. Check the fans and the airflow of the server (and of the room).",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} est à {{ printf \"%.0f\" $value }} °C.",
            description: "La chaleur raccourcit la vie d'un disque. Vérifier les ventilateurs et la circulation d'air du serveur (et de la salle).",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskNotReporting",
        signal: "smart.not_reporting",
        value: smart_not_reporting,
        inputs: &[(SMART_DEVICE_ERROR, id)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} no longer answers smartctl.",
            description: "A disk that vanished or stopped answering may have died. Read vigie's log and the kernel log (dmesg) for {{ $labels.device }}.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} ne répond plus à smartctl.",
            description: "Un disque qui disparaît ou ne répond plus est peut-être mort. Lire le journal de vigie et celui du noyau (dmesg) pour {{ $labels.device }}.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieSwapping",
        signal: "swap.swap_in_bytes_per_second",
        value: swap_in_rate,
        inputs: &[(SWAP_IN, counter_rate)],
        en: Text {
            summary: "{{ $labels.instance }} keeps reading {{ printf \"%.0f\" $value }} bytes per second back from swap.",
            description: "The host is short of RAM and everything on it is slow. Find the process that grew (top, sorted by memory) and restart it; plan more RAM or fewer services.",
        },
        fr: Text {
            summary: "{{ $labels.instance }} relit sans cesse {{ printf \"%.0f\" $value }} octets par seconde depuis le swap.",
            description: "La machine manque de RAM et tout y est lent. Trouver le processus qui a grossi (top, trié par mémoire) et le redémarrer ; prévoir plus de RAM ou moins de services.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieRebootRequired",
        signal: "reboot.required_days",
        value: reboot_required_days,
        inputs: &[(REBOOT_REQUIRED_SINCE, days_before_eval)],
        en: Text {
            summary: "{{ $labels.instance }} has been waiting {{ printf \"%.0f\" $value }} days for a reboot to apply updates.",
            description: "Security updates (kernel, libc) only apply after a reboot. Plan one at a quiet time; see /var/run/reboot-required.pkgs for why.",
        },
        fr: Text {
            summary: "{{ $labels.instance }} attend un redémarrage depuis {{ printf \"%.0f\" $value }} jours pour appliquer des mises à jour.",
            description: "Les mises à jour de sécurité (noyau, libc) ne s'appliquent qu'après un redémarrage. En prévoir un à une heure calme ; /var/run/reboot-required.pkgs dit pourquoi.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    // Before the per-resolver alert, which reads this one's ALERTS series
    // (rules of a group run in order: no evaluation with both).
    AlertSpec {
        name: "VigieDnsAllResolversFailing",
        signal: "dns.all_resolvers_failing",
        value: dns_failing_share,
        inputs: &[(DNS_RESOLVERS, two), (DNS_RESOLVERS_FAILING, twice)],
        en: Text {
            summary: concat!(
                "Name resolution is down on {{ $labels.instance }}, mail will stop: ",
                dns_each_failing!(dns_what_en!(), "; "),
                "no resolver gives a usable answer."
            ),
            description: "Mail and most apps on {{ $labels.instance }} fail without DNS. A resolver that does not answer is down or unreachable (is it running? firewall?); one that answers with an error or says a name that exists does not exist is up but cannot resolve (its upstream servers, its network, its configuration): dig @RESOLVER . NS shows it. Fix one, or point /etc/resolv.conf at a working one.",
        },
        fr: Text {
            summary: concat!(
                "Plus de résolution de noms sur {{ $labels.instance }}, le courrier va s'arrêter : ",
                dns_each_failing!(dns_what_fr!(), " ; "),
                "aucun résolveur ne donne de réponse utilisable."
            ),
            description: "Le courrier et la plupart des applications de {{ $labels.instance }} échouent sans DNS. Un résolveur qui ne répond pas est arrêté ou injoignable (tourne-t-il ? pare-feu ?) ; un résolveur qui répond par une erreur, ou dit qu'un nom qui existe n'existe pas, est allumé mais ne sait plus résoudre (ses serveurs en amont, son réseau, sa configuration) : dig @RÉSOLVEUR . NS le montre. En réparer un, ou faire pointer /etc/resolv.conf vers un résolveur qui marche.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDnsResolverFailing",
        signal: "dns.resolver_failing",
        // Until the all-failing alert fires, which then speaks for them all.
        value: dns_resolver_failing,
        inputs: &[(DNS_SUCCESS, one_minus)],
        en: Text {
            summary: concat!(
                "Resolver {{ $labels.resolver }} used by {{ $labels.instance }} ",
                dns_probe_result!(
                    dns_what_en!(),
                    "fails to resolve {{ $labels.query }} ({{ $labels.type }})"
                ),
                "."
            ),
            description: "Mail and apps on {{ $labels.instance }} now depend on the other resolvers alone (if they all fail too, one critical alert takes over from this one). If it does not answer, check that it runs and is reachable; if it answers with an error or a wrong answer, check its upstream servers and configuration (dig @RESOLVER {{ $labels.query }} {{ $labels.type }}).",
        },
        fr: Text {
            summary: concat!(
                "Le résolveur {{ $labels.resolver }} utilisé par {{ $labels.instance }} ",
                dns_probe_result!(
                    dns_what_fr!(),
                    "ne résout plus {{ $labels.query }} ({{ $labels.type }})"
                ),
                "."
            ),
            description: "Le courrier et les applications de {{ $labels.instance }} dépendent maintenant des autres résolveurs seuls (s'ils échouent tous aussi, une seule alerte critique prend le relais de celle-ci). S'il ne répond pas, vérifier qu'il tourne et qu'il est joignable ; s'il répond par une erreur ou une mauvaise réponse, vérifier ses serveurs en amont et sa configuration (dig @RÉSOLVEUR {{ $labels.query }} {{ $labels.type }}).",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDnsSlow",
        signal: "dns.latency",
        value: dns_latency,
        inputs: &[(DNS_DURATION, id), (DNS_SUCCESS, one)],
        en: Text {
            summary: "Resolver {{ $labels.resolver }} takes {{ printf \"%.1f\" $value }} seconds to answer {{ $labels.instance }}.",
            description: "Slow DNS makes mail and web requests slow. Check the resolver's load and its upstream servers.",
        },
        fr: Text {
            summary: "Le résolveur {{ $labels.resolver }} met {{ printf \"%.1f\" $value }} secondes à répondre à {{ $labels.instance }}.",
            description: "Un DNS lent ralentit le courrier et le web. Vérifier la charge du résolveur et ses serveurs en amont.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskReallocatedSectorsGrowing",
        signal: "smart.counter_growing",
        value: |s| counter_growing(s, SMART_REALLOCATED),
        inputs: &[(SMART_REALLOCATED, growing)],
        en: Text {
            summary: "The reallocated sectors of disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} are increasing.",
            description: "A disk whose reallocated sectors keep growing is failing now. Check the backups today and replace the disk as soon as possible.",
        },
        fr: Text {
            summary: "Les secteurs réalloués du disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} augmentent.",
            description: "Un disque dont les secteurs réalloués augmentent est en train de lâcher. Vérifier les sauvegardes aujourd'hui et remplacer le disque au plus vite.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskPendingSectorsGrowing",
        signal: "smart.counter_growing",
        value: |s| counter_growing(s, SMART_PENDING),
        inputs: &[(SMART_PENDING, growing)],
        en: Text {
            summary: "The unreadable (pending) sectors of disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} are increasing.",
            description: "A disk whose unreadable (pending) sectors keep growing is failing now. Check the backups today and replace the disk as soon as possible.",
        },
        fr: Text {
            summary: "Les secteurs illisibles (en attente) du disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} augmentent.",
            description: "Un disque dont les secteurs illisibles (en attente) augmentent est en train de lâcher. Vérifier les sauvegardes aujourd'hui et remplacer le disque au plus vite.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskOfflineUncorrectableGrowing",
        signal: "smart.counter_growing",
        value: |s| counter_growing(s, SMART_OFFLINE_UNCORRECTABLE),
        inputs: &[(SMART_OFFLINE_UNCORRECTABLE, growing)],
        en: Text {
            summary: "The uncorrectable sectors of disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} are increasing.",
            description: "A disk whose uncorrectable sectors keep growing is failing now. Check the backups today and replace the disk as soon as possible.",
        },
        fr: Text {
            summary: "Les secteurs irrécupérables du disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} augmentent.",
            description: "Un disque dont les secteurs irrécupérables augmentent est en train de lâcher. Vérifier les sauvegardes aujourd'hui et remplacer le disque au plus vite.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskErrorLogGrowing",
        signal: "smart.error_log_growing",
        value: |s| counter_growing(s, SMART_ERROR_LOG),
        inputs: &[(SMART_ERROR_LOG, growing)],
        en: Text {
            summary: "Disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} logged new errors in its ATA error log within the growth window: it may be starting to fail, days to weeks before an outage.",
            description: "Read the new entries (smartctl -l error {{ $labels.device }}): read errors (UNC) mean failing media, so check the backups and plan the replacement; CRC or interface errors point at the cable or the controller.",
        },
        fr: Text {
            summary: "Le disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a inscrit de nouvelles erreurs dans son journal d'erreurs ATA dans la fenêtre de croissance : il commence peut-être à lâcher, des jours ou des semaines avant une panne.",
            description: "Lire les nouvelles entrées (smartctl -l error {{ $labels.device }}) : des erreurs de lecture (UNC) signalent un support défaillant, donc vérifier les sauvegardes et prévoir le remplacement ; des erreurs CRC ou d'interface désignent le câble ou le contrôleur.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieNvmeMediaErrorsGrowing",
        signal: "smart.counter_growing",
        value: |s| counter_growing(s, NVME_MEDIA_ERRORS),
        inputs: &[(NVME_MEDIA_ERRORS, growing)],
        en: Text {
            summary: "The media errors of disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} are increasing.",
            description: "A disk whose media errors keep growing is failing now. Check the backups today and replace the disk as soon as possible.",
        },
        fr: Text {
            summary: "Les erreurs de support du disque {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} augmentent.",
            description: "Un disque dont les erreurs de support augmentent est en train de lâcher. Vérifier les sauvegardes aujourd'hui et remplacer le disque au plus vite.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskGrownDefects",
        signal: "smart.scsi_grown_defects",
        value: |s| smart_value(s, SMART_SCSI_GROWN_DEFECTS),
        inputs: &[(SMART_SCSI_GROWN_DEFECTS, id)],
        en: Text {
            summary: "SAS disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has {{ printf \"%.0f\" $value }} grown defects: it is wearing out and may lose data soon.",
            description: "The disk remapped blocks it could no longer trust. First check the backups of what it holds, then plan its replacement; if the list keeps growing, replace it now (smartctl -x {{ $labels.device }}).",
        },
        fr: Text {
            summary: "Le disque SAS {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a {{ printf \"%.0f\" $value }} défauts apparus : il s'use et peut bientôt perdre des données.",
            description: "Le disque a remplacé des blocs auxquels il ne pouvait plus se fier. D'abord vérifier les sauvegardes de ce qu'il contient, puis prévoir son remplacement ; si la liste s'allonge encore, le remplacer tout de suite (smartctl -x {{ $labels.device }}).",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskUncorrectedErrors",
        signal: "smart.scsi_uncorrected_errors",
        value: scsi_uncorrected_errors,
        inputs: &[(SMART_SCSI_UNCORRECTED, id)],
        en: Text {
            summary: "SAS disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} failed {{ printf \"%.0f\" $value }} reads, writes or verifies it could not correct: data may already be lost.",
            description: "Check the backups now, read smartctl -x {{ $labels.device }} (error counter log) and plan the replacement of the disk.",
        },
        fr: Text {
            summary: "Le disque SAS {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a échoué {{ printf \"%.0f\" $value }} lectures, écritures ou vérifications sans pouvoir les corriger : des données sont peut-être déjà perdues.",
            description: "Vérifier les sauvegardes tout de suite, lire smartctl -x {{ $labels.device }} (journal des compteurs d'erreurs) et prévoir le remplacement du disque.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieDiskGrownDefectsGrowing",
        signal: "smart.counter_growing",
        value: |s| counter_growing(s, SMART_SCSI_GROWN_DEFECTS),
        inputs: &[(SMART_SCSI_GROWN_DEFECTS, growing)],
        en: Text {
            summary: "The grown defects of SAS disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} increased within the growth window: it is failing now.",
            description: "A disk whose defect list keeps growing is failing now. Check the backups today and replace the disk as soon as possible.",
        },
        fr: Text {
            summary: "Les défauts apparus du disque SAS {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} ont augmenté dans la fenêtre de croissance : il est en train de lâcher.",
            description: "Un disque dont la liste de défauts s'allonge est en train de lâcher. Vérifier les sauvegardes aujourd'hui et remplacer le disque au plus vite.",
        },
        avail: None,
        gate: None,
        history: None,
    },
    AlertSpec {
        name: "VigieNvmeSpareLow",
        signal: "smart.nvme_spare_low",
        value: nvme_spare_low,
        inputs: &[(NVME_SPARE, spare), (NVME_SPARE_THRESHOLD, spare_threshold)],
        en: Text {
            summary: "NVMe disk {{ $labels.device }} (serial {{ $labels.serial }}) on {{ $labels.instance }} has used up its spare blocks.",
            description: "Below its spare threshold the disk can no longer replace worn blocks and may turn read-only. Check the backups and replace the disk.",
        },
        fr: Text {
            summary: "Le disque NVMe {{ $labels.device }} (série {{ $labels.serial }}) de {{ $labels.instance }} a épuisé ses blocs de réserve.",
            description: "Sous son seuil de réserve, le disque ne peut plus remplacer les blocs usés et peut passer en lecture seule. Vérifier les sauvegardes et remplacer le disque.",
        },
        avail: None,
        gate: None,
        history: None,
    },
];

/// The free-space floor of `level`: fewer bytes than it left at the day's
/// lowest.
fn free_floor(s: &Scope, level: &str) -> Expr {
    let f = s.free_floor;
    free_below(
        s,
        if level == "critical" {
            f.critical_bytes
        } else {
            f.warning_bytes
        },
    )
}

/// Spare 5% (below a 10% threshold) when `v` is 1, 50% otherwise.
fn spare(v: f64, _: f64) -> (f64, f64) {
    (if v >= 1.0 { 0.05 } else { 0.5 }, 0.0)
}

fn spare_threshold(_: f64, _: f64) -> (f64, f64) {
    (0.1, 0.0)
}

/// Available bytes of the [`tenfold`] test series.
fn avail_tenfold(v: f64, _: f64) -> f64 {
    v * 10.0
}

/// Available bytes of the [`falling_avail`] series at the evaluation time.
fn avail_at_eval(v: f64, _: f64) -> f64 {
    v * 86400.0 * 100.0
}

fn swap_free(v: f64, _: f64) -> (f64, f64) {
    (1000.0 - 10.0 * v, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thresholds::SIGNALS;

    /// [`AlertSpec::sig`] cannot fail, and every signal but the monitoring
    /// ones (written by `rules::monitoring`) has an alert.
    #[test]
    fn alerts_and_signals_match() {
        for a in ALERTS {
            assert!(signal(a.signal).is_some(), "{}", a.name);
        }
        for s in SIGNALS.iter().filter(|s| !s.id.starts_with("monitoring.")) {
            assert!(ALERTS.iter().any(|a| a.signal == s.id), "{}", s.id);
        }
    }
}
