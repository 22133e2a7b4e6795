//! The host detail: one host over time, with the thresholds file's levels
//! drawn as lines on the graphs they apply to.

use serde_json::{Value, json};

use super::*;

/// Disk series carry device, type, model, serial and wwn; one disk is
/// named by its serial, with model and device for people.
const DISK_BY: &str = "serial, model, device";
const DISK_LEGEND: &str = "{{serial}} ({{model}}, {{device}})";

/// A SMART counter panel: metric, title and description (en, fr), and the
/// signal whose levels it draws.
type Counter = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// One disk metric, one series per disk.
fn disk_q(c: &Ctx, metric: &str) -> String {
    c.q(&format!("max by({DISK_BY}) ({metric}{{SEL}})"))
}

pub fn dashboard(t: &Thresholds) -> Result<Value, String> {
    let mut c = Ctx::new(t, "=");

    // ---- Summary: the fleet table's cells for this host ----
    c.row(c.tr("Summary", "Résumé"));
    for cell in cells(&c)? {
        c.add(
            (4, 3),
            cell.title,
            cell.description,
            vec![instant(cell.expr)],
            stat("none", level_steps(), level_mappings(&c)),
        );
    }

    // ---- Filesystems ----
    c.row(c.tr("Filesystems", "Systèmes de fichiers"));
    let free = Bands::of(t, "filesystem.free_percent");
    let mut p = timeseries("percent", Some(free), Some(0.0));
    p["fieldConfig"]["defaults"]["max"] = json!(100);
    c.add(
        (12, 8),
        c.tr("Free space", "Espace libre"),
        c.tr(
            "Free space of each filesystem in percent (what unprivileged users can still write). The lines are the warning and critical levels of filesystem.free_percent; filesystems holding a watched path have their role's levels, drawn in their own panel.",
            "Espace libre de chaque système de fichiers en pourcentage (ce que les utilisateurs non privilégiés peuvent encore écrire). Les lignes sont les niveaux avertissement et critique de filesystem.free_percent ; les systèmes de fichiers qui contiennent un chemin surveillé ont les niveaux de leur rôle, tracés dans leur propre panneau.",
        ),
        vec![range(
            c.q("100 * vigie_filesystem_avail_bytes{SEL} / vigie_filesystem_size_bytes{SEL}"),
            "{{mountpoint}}",
        )],
        p,
    );
    for (role, signals) in &t.roles {
        let levels = signals
            .get("filesystem.free_percent")
            .copied()
            .unwrap_or(t.signals["filesystem.free_percent"]);
        let bands = Bands::from_levels("filesystem.free_percent", &levels);
        let mut p = timeseries("percent", Some(bands), Some(0.0));
        p["fieldConfig"]["defaults"]["max"] = json!(100);
        c.add(
            (12, 8),
            format!("{} ({role})", c.tr("Free space of watched paths", "Espace libre des chemins surveillés")),
            c.tr(
                &format!("Free space of the filesystems holding a path watched with role {role} (--collector.filesystem.watch-path=PATH={role}), with that role's levels as lines: when one fills up, the service behind the path stops."),
                &format!("Espace libre des systèmes de fichiers qui contiennent un chemin surveillé avec le rôle {role} (--collector.filesystem.watch-path=CHEMIN={role}), avec les niveaux de ce rôle en lignes : quand l'un se remplit, le service derrière le chemin s'arrête."),
            ),
            vec![range(
                c.q("vigie_path_filesystem_info{SEL_ROLE} * on(instance, mountpoint) group_left() (100 * vigie_filesystem_avail_bytes{SEL} / vigie_filesystem_size_bytes{SEL})")
                .replace("{SEL_ROLE}", &format!("{{{},role=\"{role}\"}}", c.sel_inner())),
                "{{path}} ({{mountpoint}})",
            )],
            p,
        );
    }
    c.add(
        (12, 8),
        c.tr("Free bytes", "Octets libres"),
        c.tr(
            "Bytes unprivileged users can still write, per filesystem. A big disk can look fine in percent and still fill in days: watch the slope.",
            "Octets que les utilisateurs non privilégiés peuvent encore écrire, par système de fichiers. Un gros disque peut sembler bien en pourcentage et se remplir en quelques jours : regarder la pente.",
        ),
        vec![range(c.q("vigie_filesystem_avail_bytes{SEL}"), "{{mountpoint}}")],
        timeseries("bytes", None, Some(0.0)),
    );
    let full_in = Bands::of(t, "filesystem.full_in");
    // A filesystem that is not filling (slope zero or rising) shows
    // "not filling" rather than an infinite forecast.
    let horizon_days = 365.0;
    let forecast = c.q(&format!(
        "clamp_max(vigie_filesystem_avail_bytes{{SEL}} / clamp_min(-deriv(vigie_filesystem_avail_bytes{{SEL}}[WINDOW]), 1e-9) / 86400, {horizon_days})"
    ));
    let mut p = bargauge(
        &days(&c),
        full_in.steps(),
        json!([{"type": "range", "options": {"from": horizon_days, "to": 1e6, "result": {
            "text": c.tr("not filling", "ne se remplit pas"), "color": OK, "index": 0}}}]),
        Some(horizon_days),
    );
    p["fieldConfig"]["defaults"]["decimals"] = json!(1);
    c.add(
        (12, 8),
        c.tr("Forecast: days until full", "Prévision : jours avant saturation"),
        c.tr(
            &format!("Days until each filesystem is full at the rate it filled over the last {} (the trend window of the thresholds file), coloured by filesystem.full_in. The alert also requires the filesystem to be still filling over the last sixth of that window, so a burst that has ended does not page.", crate::units::prom_duration(t.full_in_window_secs)),
            &format!("Jours avant que chaque système de fichiers soit plein au rythme des dernières {} (la fenêtre de tendance du fichier de seuils), coloré selon filesystem.full_in. L'alerte exige aussi qu'il se remplisse encore sur le dernier sixième de cette fenêtre, pour qu'une rafale terminée ne réveille personne.", crate::units::prom_duration(t.full_in_window_secs)),
        ),
        vec![json!({"expr": forecast, "legendFormat": "{{mountpoint}}", "range": false, "instant": true, "editorMode": "code"})],
        p,
    );
    let inodes = Bands::of(t, "filesystem.inodes_free_percent");
    let mut p = timeseries("percent", Some(inodes), Some(0.0));
    p["fieldConfig"]["defaults"]["max"] = json!(100);
    c.add(
        (12, 8),
        c.tr("Free inodes", "Inodes libres"),
        c.tr(
            "Free inodes per filesystem in percent, with the levels of filesystem.inodes_free_percent. With no inode left no file can be created, even with free space.",
            "Inodes libres par système de fichiers en pourcentage, avec les niveaux de filesystem.inodes_free_percent. Sans inode libre, aucun fichier ne peut être créé, même avec de la place.",
        ),
        vec![range(
            c.q("100 * vigie_filesystem_files_free{SEL} / vigie_filesystem_files{SEL}"),
            "{{mountpoint}}",
        )],
        p,
    );
    c.add(
        (12, 8),
        c.tr("Read-only or stuck", "Lecture seule ou bloqué"),
        c.tr(
            "Read-only: the kernel often remounts a filesystem read-only after disk errors. Stuck: statfs did not answer in time (a hung NFS mount).",
            "Lecture seule : le noyau remonte souvent un système de fichiers en lecture seule après des erreurs disque. Bloqué : statfs n'a pas répondu à temps (montage NFS figé).",
        ),
        vec![range(
            c.q("max by(mountpoint) (2 * (vigie_filesystem_stat_error{SEL} == 1) or vigie_filesystem_readonly{SEL})"),
            "{{mountpoint}}",
        )],
        state_timeline(
            "none",
            fixed(OK),
            mapping(&[
                ("0", c.tr("read-write", "lecture-écriture"), OK),
                ("1", c.tr("read-only", "lecture seule"), CRITICAL),
                ("2", c.tr("stuck", "bloqué"), CRITICAL),
            ]),
        ),
    );

    // ---- Disks ----
    c.row(c.tr("Disks (SMART)", "Disques (SMART)"));
    let mut p = table("none", Some(("serial", false)));
    let temp = Bands::of(t, "smart.temperature_celsius");
    let wear = Bands::of(t, "smart.nvme_wear_percent");
    let column = |expr: String, title: String, props: Vec<Value>| Column { expr, title, props };
    let health_cols = vec![
        column(
            disk_q(&c, "vigie_smart_healthy"),
            c.tr("Self-assessment", "Auto-diagnostic"),
            vec![
                prop(
                    "custom.cellOptions",
                    json!({"type": "color-background", "mode": "basic"}),
                ),
                prop(
                    "mappings",
                    mapping(&[
                        ("1", c.tr("passed", "réussi"), OK),
                        ("0", c.tr("FAILING", "EN ÉCHEC"), CRITICAL),
                    ]),
                ),
            ],
        ),
        column(
            disk_q(&c, "vigie_smart_temperature_celsius"),
            c.tr("Temperature", "Température"),
            vec![
                prop("unit", json!("celsius")),
                prop(
                    "custom.cellOptions",
                    json!({"type": "color-background", "mode": "basic"}),
                ),
                prop("thresholds", temp.steps()),
            ],
        ),
        column(
            format!("100 * {}", disk_q(&c, "vigie_smart_nvme_wear_ratio")),
            c.tr("Wear (NVMe)", "Usure (NVMe)"),
            vec![
                prop("unit", json!("percent")),
                prop(
                    "custom.cellOptions",
                    json!({"type": "color-background", "mode": "basic"}),
                ),
                prop("thresholds", wear.steps()),
            ],
        ),
        column(
            disk_q(&c, "vigie_smart_power_on_seconds"),
            c.tr("Powered on", "Sous tension"),
            vec![prop("unit", json!("s"))],
        ),
        column(
            format!(
                "time() - {}",
                disk_q(&c, "vigie_smart_last_success_timestamp_seconds")
            ),
            c.tr("Last read", "Dernière lecture"),
            vec![prop("unit", json!("s")), prop("decimals", json!(0))],
        ),
        column(
            disk_q(&c, "vigie_smart_device_standby"),
            c.tr("State", "État"),
            vec![prop(
                "mappings",
                mapping(&[
                    ("0", c.tr("active", "actif"), OK),
                    (
                        "1",
                        c.tr("asleep (last values kept)", "en veille (dernières valeurs)"),
                        "blue",
                    ),
                ]),
            )],
        ),
        column(
            disk_q(&c, "vigie_smart_device_error"),
            c.tr("smartctl", "smartctl"),
            vec![
                prop("custom.cellOptions", json!({"type": "color-text"})),
                prop(
                    "mappings",
                    mapping(&[
                        ("0", c.tr("ok", "ok"), OK),
                        (
                            "1",
                            c.tr(
                                "no data: see vigie's log",
                                "pas de données : voir le journal de vigie",
                            ),
                            CRITICAL,
                        ),
                    ]),
                ),
            ],
        ),
    ];
    let targets = merged_columns(&mut p, &["serial", "model", "device"], health_cols);
    c.add(
        (24, 6),
        c.tr("Disks now", "Disques maintenant"),
        c.tr(
            "One row per disk, by serial. A failing self-assessment means copy the data off now. smartctl runs every few minutes with --nocheck=standby, so a sleeping disk keeps its last values.",
            "Une ligne par disque, par numéro de série. Un auto-diagnostic en échec veut dire copier les données ailleurs maintenant. smartctl passe toutes les quelques minutes avec --nocheck=standby : un disque en veille garde ses dernières valeurs.",
        ),
        targets,
        p,
    );
    let counters: [Counter; 7] = [
        (
            "vigie_smart_reallocated_sectors",
            "Reallocated sectors (ATA 5)",
            "Secteurs réalloués (ATA 5)",
            "Sectors the disk replaced with spares after failing to read or write them. A growing count means the surface is degrading: copy the data off.",
            "Secteurs que le disque a remplacés par des secteurs de réserve après un échec de lecture ou d'écriture. S'il augmente, la surface se dégrade : copier les données ailleurs.",
            Some("smart.reallocated_sectors"),
        ),
        (
            "vigie_smart_pending_sectors",
            "Pending sectors (ATA 197)",
            "Secteurs en attente (ATA 197)",
            "Sectors that could not be read and wait to be reallocated: data in them may already be lost.",
            "Secteurs illisibles en attente de réallocation : leurs données sont peut-être déjà perdues.",
            Some("smart.pending_sectors"),
        ),
        (
            "vigie_smart_offline_uncorrectable",
            "Offline uncorrectable (ATA 198)",
            "Non corrigibles hors ligne (ATA 198)",
            "Sectors the offline scan could not read.",
            "Secteurs que l'analyse hors ligne n'a pas pu lire.",
            Some("smart.offline_uncorrectable"),
        ),
        (
            "vigie_smart_reported_uncorrectable",
            "Reported uncorrectable (ATA 187)",
            "Erreurs non corrigibles (ATA 187)",
            "Reads the disk could not correct with ECC.",
            "Lectures que le disque n'a pas pu corriger par ECC.",
            Some("smart.reported_uncorrectable"),
        ),
        (
            "vigie_smart_udma_crc_errors",
            "UDMA CRC errors (ATA 199)",
            "Erreurs CRC UDMA (ATA 199)",
            "Transfer errors between disk and controller: usually a bad cable or connector, not the disk.",
            "Erreurs de transfert entre disque et contrôleur : le plus souvent un câble ou un connecteur, pas le disque.",
            Some("smart.udma_crc_errors"),
        ),
        (
            "vigie_smart_nvme_media_errors",
            "NVMe media errors",
            "Erreurs de support NVMe",
            "Unrecovered data integrity errors reported by an NVMe drive.",
            "Erreurs d'intégrité non récupérées signalées par un disque NVMe.",
            Some("smart.nvme_media_errors"),
        ),
        (
            "vigie_smart_scsi_grown_defects",
            "SCSI grown defects",
            "Défauts apparus (SCSI)",
            "Entries of a SCSI/SAS disk's grown defect list: like reallocated sectors, a growing list means a degrading disk.",
            "Entrées de la liste des défauts apparus d'un disque SCSI/SAS : comme les secteurs réalloués, une liste qui s'allonge signale un disque qui se dégrade.",
            None,
        ),
    ];
    for (metric, en, fr, den, dfr, sig) in counters {
        let bands = sig.map(|s| Bands::of(t, s));
        c.add(
            (8, 7),
            c.tr(en, fr),
            c.tr(den, dfr),
            vec![range(disk_q(&c, metric), DISK_LEGEND)],
            timeseries("none", bands, Some(0.0)),
        );
    }
    c.add(
        (8, 7),
        c.tr("Temperature", "Température"),
        c.tr(
            "Disk temperature per disk, with the levels of smart.temperature_celsius: a hot disk fails sooner; check fans and airflow.",
            "Température de chaque disque, avec les niveaux de smart.temperature_celsius : un disque trop chaud lâche plus tôt ; vérifier ventilateurs et circulation d'air.",
        ),
        vec![range(disk_q(&c, "vigie_smart_temperature_celsius"), DISK_LEGEND)],
        timeseries("celsius", Some(temp), None),
    );
    c.add(
        (8, 7),
        c.tr("NVMe wear", "Usure NVMe"),
        c.tr(
            "Percentage of the drive's rated endurance used (may exceed 100), with the levels of smart.nvme_wear_percent: plan the replacement before the critical line.",
            "Pourcentage de l'endurance nominale consommé (peut dépasser 100), avec les niveaux de smart.nvme_wear_percent : prévoir le remplacement avant la ligne critique.",
        ),
        vec![range(
            format!("100 * {}", disk_q(&c, "vigie_smart_nvme_wear_ratio")),
            DISK_LEGEND,
        )],
        timeseries("percent", Some(wear), Some(0.0)),
    );

    // ---- Memory and swap ----
    c.row(c.tr("Memory and swap", "Mémoire et swap"));
    c.add(
        (8, 8),
        c.tr("Swap used", "Swap utilisé"),
        c.tr(
            "Swap used and its size, with the memory still available to programs. Swap that only grows on a host not rebooted for months is the slow leak of incident 4.",
            "Swap utilisé et sa taille, avec la mémoire encore disponible pour les programmes. Un swap qui ne fait que croître sur une machine pas redémarrée depuis des mois, c'est la fuite lente de l'incident 4.",
        ),
        vec![
            range(c.q("vigie_swap_size_bytes{SEL} - vigie_swap_free_bytes{SEL}"), &c.tr("swap used", "swap utilisé")),
            range(c.q("vigie_swap_size_bytes{SEL}"), &c.tr("swap size", "taille du swap")),
            range(c.q("vigie_memory_available_bytes{SEL}"), &c.tr("memory available", "mémoire disponible")),
        ],
        timeseries("bytes", None, Some(0.0)),
    );
    let mut p = timeseries(
        "percent",
        Some(Bands::of(t, "swap.used_percent")),
        Some(0.0),
    );
    p["fieldConfig"]["defaults"]["max"] = json!(100);
    c.add(
        (8, 8),
        c.tr("Swap used (percent)", "Swap utilisé (pourcentage)"),
        c.tr(
            "Share of swap in use, with the levels of swap.used_percent. When it is full the kernel kills processes.",
            "Part du swap utilisée, avec les niveaux de swap.used_percent. Quand il est plein, le noyau tue des processus.",
        ),
        vec![range(
            c.q("100 * (vigie_swap_size_bytes{SEL} - vigie_swap_free_bytes{SEL}) / (vigie_swap_size_bytes{SEL} > 0)"),
            &c.tr("swap used", "swap utilisé"),
        )],
        p,
    );
    c.add(
        (8, 8),
        c.tr("Swap-in and swap-out", "Lecture et écriture du swap"),
        c.tr(
            "Bytes per second read back from swap (the host waits for them) and written to it. The lines are the levels of swap.swap_in_bytes_per_second: sustained swap-in means the host is short of memory now.",
            "Octets par seconde relus depuis le swap (la machine les attend) et écrits dedans. Les lignes sont les niveaux de swap.swap_in_bytes_per_second : une lecture soutenue veut dire que la mémoire manque maintenant.",
        ),
        vec![
            range(c.q("rate(vigie_swap_in_bytes_total{SEL}[$__rate_interval])"), &c.tr("swap-in", "lecture")),
            range(c.q("rate(vigie_swap_out_bytes_total{SEL}[$__rate_interval])"), &c.tr("swap-out", "écriture")),
        ],
        timeseries("binBps", Some(Bands::of(t, "swap.swap_in_bytes_per_second")), Some(0.0)),
    );

    // ---- Reboot ----
    c.row(c.tr("Reboot", "Redémarrage"));
    c.add(
        (6, 4),
        c.tr("Days since boot", "Jours depuis le démarrage"),
        c.tr(
            "Coloured by reboot.days_since: the longer a server runs, the riskier its next reboot.",
            "Coloré selon reboot.days_since : plus un serveur tourne longtemps, plus son prochain redémarrage est risqué.",
        ),
        vec![instant(c.q("(time() - vigie_boot_time_seconds{SEL}) / 86400"))],
        stat(&days(&c), Bands::of(t, "reboot.days_since").steps(), json!([])),
    );
    c.add(
        (6, 4),
        c.tr("Reboot required", "Redémarrage requis"),
        c.tr(
            "Whether /var/run/reboot-required exists (a kernel or library update waits for a reboot).",
            "Si /var/run/reboot-required existe (une mise à jour du noyau ou d'une bibliothèque attend un redémarrage).",
        ),
        vec![instant(c.q("vigie_reboot_required{SEL}"))],
        stat(
            "none",
            fixed(OK),
            mapping(&[
                ("0", c.tr("no", "non"), OK),
                ("1", c.tr("yes", "oui"), WARNING),
            ]),
        ),
    );
    let mut p = stat(
        &days(&c),
        Bands::of(t, "reboot.required_days").steps(),
        json!([]),
    );
    p["fieldConfig"]["defaults"]["noValue"] = json!(c.tr("not requested", "non demandé"));
    c.add(
        (6, 4),
        c.tr("Reboot requested for", "Redémarrage demandé depuis"),
        c.tr(
            "Days since a reboot was first requested, coloured by reboot.required_days: security updates do not apply until then.",
            "Jours depuis la première demande de redémarrage, coloré selon reboot.required_days : les mises à jour de sécurité ne s'appliquent pas avant.",
        ),
        vec![instant(c.q("(time() - vigie_reboot_required_since_timestamp_seconds{SEL}) / 86400"))],
        p,
    );
    c.add(
        (6, 4),
        c.tr(
            "Packages waiting for a reboot",
            "Paquets en attente de redémarrage",
        ),
        c.tr(
            "Distinct packages listed in /var/run/reboot-required.pkgs.",
            "Paquets distincts listés dans /var/run/reboot-required.pkgs.",
        ),
        vec![instant(c.q("vigie_reboot_required_packages{SEL}"))],
        stat("none", fixed("text"), json!([])),
    );

    // ---- DNS ----
    c.row(c.tr("DNS resolvers", "Résolveurs DNS"));
    c.add(
        (12, 8),
        c.tr("Resolver answers", "Réponses des résolveurs"),
        c.tr(
            "Whether each resolver of the host answered all its test queries. When every resolver fails, nothing on the host can resolve names (mail stops).",
            "Si chaque résolveur de la machine a répondu à toutes ses requêtes de test. Quand tous échouent, plus rien sur la machine ne résout de nom (le courrier s'arrête).",
        ),
        vec![range(c.q("min by(resolver) (vigie_dns_probe_success{SEL})"), "{{resolver}}")],
        state_timeline(
            "none",
            fixed(OK),
            mapping(&[
                ("1", c.tr("answering", "répond"), OK),
                ("0", c.tr("failing", "en échec"), CRITICAL),
            ]),
        ),
    );
    c.add(
        (12, 8),
        c.tr("Resolver latency", "Latence des résolveurs"),
        c.tr(
            "Duration of each resolver's last probe and the 95th percentile of its answered probes, with the levels of dns.latency.",
            "Durée de la dernière sonde de chaque résolveur et 95e centile de ses sondes ayant reçu une réponse, avec les niveaux de dns.latency.",
        ),
        vec![
            range(
                c.q("max by(resolver) (vigie_dns_probe_duration_seconds{SEL})"),
                &c.tr("{{resolver}} last probe", "{{resolver}} dernière sonde"),
            ),
            range(
                c.q("histogram_quantile(0.95, sum by(resolver, le) (rate(vigie_dns_probe_latency_seconds_bucket{SEL}[$__rate_interval])))"),
                &c.tr("{{resolver}} p95", "{{resolver}} 95e centile"),
            ),
        ],
        timeseries("s", Some(Bands::of(t, "dns.latency")), Some(0.0)),
    );
    c.add(
        (24, 7),
        c.tr("Probe results", "Résultats des sondes"),
        c.tr(
            "Probes per second by resolver and result: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, timeout, network_error, malformed.",
            "Sondes par seconde par résolveur et résultat : NOERROR, NXDOMAIN, SERVFAIL, REFUSED, timeout, network_error, malformed.",
        ),
        vec![range(
            c.q("sum by(resolver, result) (rate(vigie_dns_probes_total{SEL}[$__rate_interval]))"),
            "{{resolver}} {{result}}",
        )],
        timeseries("ops", None, Some(0.0)),
    );

    // ---- vigie itself ----
    c.row(c.tr("vigie itself", "vigie elle-même"));
    c.add(
        (12, 7),
        c.tr("Collector success", "Succès des collecteurs"),
        c.tr(
            "Whether each collector's last run succeeded. While one fails, its alerts cannot fire: read vigie's log (journalctl -u vigie).",
            "Si la dernière exécution de chaque collecteur a réussi. Tant qu'un collecteur échoue, ses alertes ne peuvent pas se déclencher : lire le journal de vigie (journalctl -u vigie).",
        ),
        vec![range(c.q("vigie_collector_success{SEL}"), "{{collector}}")],
        state_timeline(
            "none",
            fixed(OK),
            mapping(&[
                ("1", c.tr("ok", "ok"), OK),
                ("0", c.tr("failing", "en échec"), CRITICAL),
            ]),
        ),
    );
    c.add(
        (12, 7),
        c.tr("Collector duration", "Durée des collecteurs"),
        c.tr(
            "How long each collector's last run took. Scrapes are served from memory, so a slow collector does not slow them.",
            "Durée de la dernière exécution de chaque collecteur. Les collectes sont servies depuis la mémoire : un collecteur lent ne les ralentit pas.",
        ),
        vec![range(c.q("vigie_collector_duration_seconds{SEL}"), "{{collector}}")],
        timeseries("s", None, Some(0.0)),
    );
    c.add(
        (12, 7),
        c.tr("Data age", "Âge des données"),
        c.tr(
            "Seconds since each collector last succeeded: SMART runs every few minutes, the others on each scrape or every 30 seconds.",
            "Secondes depuis le dernier succès de chaque collecteur : SMART passe toutes les quelques minutes, les autres à chaque collecte ou toutes les 30 secondes.",
        ),
        vec![range(
            c.q("time() - vigie_collector_last_success_timestamp_seconds{SEL}"),
            "{{collector}}",
        )],
        timeseries("s", None, Some(0.0)),
    );
    c.add(
        (12, 7),
        c.tr("Scrape duration", "Durée de collecte"),
        c.tr(
            "How long Prometheus took to scrape vigie.",
            "Temps mis par Prometheus pour collecter vigie.",
        ),
        vec![range(c.q("scrape_duration_seconds{SEL}"), "{{instance}}")],
        timeseries("s", None, Some(0.0)),
    );

    let links = link_to(
        FLEET_UID,
        c.tr("Fleet overview", "Vue du parc"),
        c.tr(
            "Every host, worst first",
            "Toutes les machines, la pire en premier",
        ),
    );
    let title = c.tr("vigie / Host detail", "vigie / Détail d'une machine");
    let desc = c.tr(
        "One host over time: filesystems with their levels and forecast, disks by serial, swap, reboot, DNS and vigie itself. Generated by vigie gen-rules from the thresholds file; regenerate rather than edit.",
        "Une machine dans le temps : systèmes de fichiers avec leurs niveaux et leur prévision, disques par numéro de série, swap, redémarrage, DNS et vigie elle-même. Généré par vigie gen-rules depuis le fichier de seuils ; regénérer plutôt que modifier.",
    );
    let panels = c.take_panels();
    Ok(super::dashboard(
        &c, HOST_UID, title, desc, panels, false, links,
    ))
}
