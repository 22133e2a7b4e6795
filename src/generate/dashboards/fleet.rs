//! The fleet overview: "is anything about to break, and where?" in five
//! seconds. Counters across the fleet on top, then one row per host, worst
//! first, with one cell per signal coloured by the thresholds file's
//! levels, then the list of firing vigie alerts.

use serde_json::{Value, json};

use super::*;
use crate::promql::signals::metric::UP;

/// The firing vigie alerts of a severity.
fn firing(c: &Ctx, severity: Option<&str>) -> Expr {
    signals::firing_alerts(c.scope(), severity)
}

/// How many series `e` has, 0 when none.
fn count_or_zero(e: Expr) -> Expr {
    Expr::agg(Agg::Count, &[], e).bin(Op::Or, Expr::call("vector", [Expr::num(0.0)]))
}

pub fn dashboard(t: &Thresholds, overrides: &OverrideIndex) -> Value {
    let mut c = Ctx::new(t, overrides, true);
    let s = c.scope().clone();

    // ---- Fleet counters ----
    c.row(c.tr("Fleet", "Parc"));
    c.add(
        (4, 4),
        c.tr("Hosts", "Machines"),
        c.tr(
            "Hosts whose vigie Prometheus scrapes (up series).",
            "Machines dont Prometheus collecte vigie (séries up).",
        ),
        vec![instant(Expr::agg(Agg::Count, &[], s.metric(UP)))],
        stat("none", fixed("text"), json!([])),
    );
    c.add(
        (4, 4),
        c.tr("Hosts not answering", "Machines muettes"),
        c.tr(
            "Hosts whose vigie cannot be scraped: nothing else about them is watched. Check the host and `systemctl status vigie`.",
            "Machines dont vigie ne répond pas : plus rien n'y est surveillé. Vérifier la machine et `systemctl status vigie`.",
        ),
        vec![instant(count_or_zero(signals::target_down(&s)))],
        stat("none", from_one(CRITICAL), json!([])),
    );
    c.add(
        (4, 4),
        c.tr("Critical alerts firing", "Alertes critiques"),
        c.tr(
            "vigie alerts of severity critical firing now: act today.",
            "Alertes vigie de gravité critique en cours : agir aujourd'hui.",
        ),
        vec![instant(count_or_zero(firing(&c, Some("critical"))))],
        stat("none", from_one(CRITICAL), json!([])),
    );
    c.add(
        (4, 4),
        c.tr("Warnings firing", "Avertissements"),
        c.tr(
            "vigie alerts of severity warning firing now: plan the fix this week.",
            "Alertes vigie de gravité avertissement en cours : prévoir la correction cette semaine.",
        ),
        vec![instant(count_or_zero(firing(&c, Some("warning"))))],
        stat("none", from_one(WARNING), json!([])),
    );
    c.add(
        (4, 4),
        c.tr("Least free space", "Espace libre minimal"),
        c.tr(
            "The fullest filesystem of the fleet: its free space in percent (what unprivileged users can still write), coloured by filesystem.free_percent.",
            "Le système de fichiers le plus plein du parc : son espace libre en pourcentage (ce que les utilisateurs non privilégiés peuvent encore écrire), coloré selon filesystem.free_percent.",
        ),
        vec![instant(Expr::agg(Agg::Min, &[], signals::free_percent(&s)))],
        stat(
            "percent",
            Bands::of(t, "filesystem.free_percent").steps(),
            json!([]),
        ),
    );
    c.add(
        (4, 4),
        c.tr("Longest without reboot", "Plus long sans redémarrage"),
        c.tr(
            "Days since the least recently rebooted host booted, coloured by reboot.days_since.",
            "Jours depuis le démarrage de la machine redémarrée il y a le plus longtemps, coloré selon reboot.days_since.",
        ),
        vec![instant(Expr::agg(
            Agg::Max,
            &[],
            signals::days_since_boot(&s),
        ))],
        stat(&days(&c), Bands::of(t, "reboot.days_since").steps(), json!([])),
    );

    // ---- One row per host ----
    c.row(c.tr("Hosts, worst first", "Machines, la pire en premier"));
    let cells = cells(&c);
    let by_instance = |agg, e| Expr::agg(agg, &["instance"], e);
    let alerts_level = Expr::union([
        Expr::num(2.0).bin(
            Op::Mul,
            by_instance(Agg::Group, firing(&c, Some("critical"))),
        ),
        by_instance(Agg::Group, firing(&c, Some("warning"))),
    ])
    .expect("two alternatives");
    let mut status_parts: Vec<Expr> = cells
        .iter()
        .map(|cell| cell.expr.clone().with_label("vigie_cell", cell.key))
        .collect();
    status_parts.push(alerts_level.with_label("vigie_cell", "alerts"));
    let status = Expr::agg_block(
        Agg::Max,
        &["instance"],
        Expr::union(status_parts).expect("cells"),
    );
    let firing_count = Expr::union([
        by_instance(Agg::Count, firing(&c, None)),
        signals::zero_per_host(&s),
    ])
    .expect("two alternatives");

    // Every cell is coloured: by level (with words), by the signal's
    // levels, or as a count from 1.
    let coloured = |unit: &str, colouring: Vec<Value>| {
        let mut props = vec![
            prop("unit", json!(unit)),
            prop(
                "custom.cellOptions",
                json!({"type": "color-background", "mode": "basic"}),
            ),
        ];
        props.extend(colouring);
        props
    };
    let levels = || {
        vec![
            prop("thresholds", level_steps()),
            prop("mappings", level_mappings(&c)),
        ]
    };
    let bands = |signal: &str| {
        vec![
            prop("thresholds", Bands::of(t, signal).steps()),
            prop("decimals", json!(1)),
        ]
    };
    let column = |expr: Expr, title: String, props: Vec<Value>| Column { expr, title, props };
    let mut columns = vec![
        column(status, c.tr("Status", "État"), coloured("none", levels())),
        column(
            firing_count,
            c.tr("Alerts firing", "Alertes en cours"),
            coloured("none", vec![prop("thresholds", from_one(WARNING))]),
        ),
    ];
    for cell in &cells {
        columns.push(column(
            cell.expr.clone(),
            cell.title.clone(),
            coloured("none", levels()),
        ));
    }
    columns.push(column(
        by_instance(Agg::Min, signals::free_percent(&s)),
        c.tr("Least free", "Libre minimal"),
        coloured("percent", bands("filesystem.free_percent")),
    ));
    columns.push(column(
        by_instance(Agg::Max, signals::swap_used_percent(&s)),
        c.tr("Swap used", "Swap utilisé"),
        coloured("percent", bands("swap.used_percent")),
    ));
    columns.push(column(
        by_instance(Agg::Max, signals::days_since_boot(&s)),
        c.tr("Up for", "Démarrée depuis"),
        coloured(&days(&c), bands("reboot.days_since")),
    ));

    let mut p = table("none", Some((&c.tr("Status", "État"), true)));
    p["fieldConfig"]["overrides"] = json!([by_name(
        "instance",
        vec![
            prop("displayName", json!(c.tr("Host", "Machine"))),
            prop("custom.width", json!(200)),
            prop(
                "links",
                json!([{
                    "title": c.tr("Open the host dashboard", "Ouvrir le tableau de bord de la machine"),
                    "url": format!("/d/{HOST_UID}?${{datasource:queryparam}}&${{job:queryparam}}&var-instance=${{__value.raw}}&${{__url_time_range}}"),
                }]),
            ),
        ],
    )]);
    let targets = merged_columns(&mut p, &["instance"], columns);
    let cell_help: Vec<String> = cells
        .iter()
        .map(|cell| format!("{}: {}", cell.title, cell.description))
        .collect();
    c.add(
        (24, 10),
        c.tr("Hosts", "Machines"),
        format!(
            "{}\n\n{}",
            c.tr(
                "One row per host, worst first. Status is the worst of the cells and of the vigie alerts firing on the host. Each cell compares the host's values with the levels of the thresholds file (overrides and roles included) as soon as they are crossed, before an alert's `for:` has passed. Click a host for its detail.",
                "Une ligne par machine, la pire en premier. L'état est le pire des cellules et des alertes vigie en cours sur la machine. Chaque cellule compare les valeurs de la machine aux niveaux du fichier de seuils (exceptions et rôles compris) dès qu'ils sont franchis, avant que le `for:` d'une alerte soit écoulé. Cliquer sur une machine pour son détail.",
            ),
            cell_help.join("\n\n")
        ),
        targets,
        p,
    );

    // ---- Firing alerts ----
    c.row(c.tr("Firing vigie alerts", "Alertes vigie en cours"));
    let mut p = table("none", Some(("severity", false)));
    p["transformations"] = json!([
        {"id": "organize", "options": {
            "excludeByName": {"Time": true, "Value": true, "__name__": true, "alertstate": true},
            "indexByName": {"alertname": 0, "severity": 1, "instance": 2},
            "renameByName": {},
        }},
    ]);
    p["fieldConfig"]["overrides"] = json!([by_name(
        "severity",
        vec![
            prop("custom.cellOptions", json!({"type": "color-text"}),),
            prop(
                "mappings",
                mapping(&[
                    ("warning", c.tr("warning", "attention"), WARNING),
                    ("critical", c.tr("critical", "critique"), CRITICAL),
                ]),
            ),
        ]
    )]);
    c.add(
        (24, 8),
        c.tr("Alerts firing now", "Alertes en cours"),
        c.tr(
            "Every vigie alert firing, critical first, with the labels that say where (filesystem, disk serial, resolver). The summary and what to do first are in the notification.",
            "Chaque alerte vigie en cours, les critiques d'abord, avec les étiquettes qui disent où (système de fichiers, numéro de série du disque, résolveur). Le résumé et la première chose à faire sont dans la notification.",
        ),
        vec![instant(firing(&c, None))],
        p,
    );

    let link = (
        HOST_UID,
        c.tr("Host detail", "Détail d'une machine"),
        c.tr("One host over time", "Une machine dans le temps"),
    );
    let title = (
        c.tr("vigie / Fleet overview", "vigie / Vue du parc"),
        c.tr(
            "Is anything about to break, and where? Generated by vigie gen-rules from the thresholds file; regenerate rather than edit.",
            "Quelque chose va-t-il casser, et où ? Généré par vigie gen-rules depuis le fichier de seuils ; regénérer plutôt que modifier.",
        ),
    );
    super::dashboard(&mut c, FLEET_UID, title, link)
}
