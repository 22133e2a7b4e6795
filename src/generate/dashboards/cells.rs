//! The level (0 fine, 1 warning, 2 critical) of each signal group per
//! host, computed from the rules' own expressions: the fleet table's cells
//! and the host dashboard's summary.

use serde_json::Value;

use super::{CRITICAL, Ctx, OK, WARNING, mapping};
use crate::generate::rules;
use crate::promql::{Agg, Expr, Op, signals};

/// A value mapping of levels to words.
pub fn level_mappings(c: &Ctx) -> Value {
    mapping(&[
        ("0", c.tr("OK", "OK"), OK),
        ("1", c.tr("warning", "attention"), WARNING),
        ("2", c.tr("critical", "critique"), CRITICAL),
    ])
}

/// A level (0 fine, 1 warning, 2 critical) per instance for the alerts of
/// one rule group (`vigie-smart`, with the role alerts in
/// `vigie-filesystem`), but `skip`: the rules' own expressions (with their
/// overrides and roles) without their `for:`, so a cell turns orange as
/// soon as a value passes the warning level, before the alert fires.
/// Instances with none of these alerts' conditions get 0 from `up`.
fn level_expr(c: &Ctx, groups: &[rules::Group], group: &str, skip: &[&str]) -> Expr {
    let mut by_level: [Vec<Expr>; 2] = [Vec::new(), Vec::new()];
    for r in groups
        .iter()
        .filter(|g| g.name == group)
        .flat_map(|g| g.rules.iter())
    {
        let (Some(name), Some(sev)) = (&r.alert, r.labels.get("severity")) else {
            continue;
        };
        if skip.contains(&name.as_str()) {
            continue;
        }
        let i = match sev.as_str() {
            "warning" => 0,
            "critical" => 1,
            _ => continue,
        };
        by_level[i].push(r.expr.clone().paren());
    }
    let mut parts = Vec::new();
    for (i, exprs) in by_level.into_iter().enumerate().rev() {
        if let Some(any) = Expr::any(exprs) {
            let level = Expr::num((i + 1) as f64);
            parts.push(level.bin(Op::Mul, Expr::agg(Agg::Group, &["instance"], any)));
        }
    }
    parts.push(signals::zero_per_host(c.scope()));
    Expr::union(parts).expect("at least the zero per host")
}

/// One signal group's level per host, for the fleet table and the host
/// summary.
pub struct Cell {
    pub key: &'static str,
    pub title: String,
    pub description: String,
    pub expr: Expr,
}

/// The six signal groups: disks, filesystems, swap, reboot, DNS, vigie.
pub fn cells(c: &Ctx) -> Vec<Cell> {
    let groups = rules::groups_in(c.t, c.scope(), c.overrides(), false);
    let level = |group: &str| level_expr(c, &groups, group, &[]);
    let cell = |key, title: String, description: String, expr: Expr| Cell {
        key,
        title,
        description,
        expr,
    };
    vec![
        cell(
            "disks",
            c.tr("Disks", "Disques"),
            c.tr(
                "Worst SMART level of the host's disks: failing self-assessment, pre-fail counters, growing counters, NVMe wear and spare, temperature, a disk that stopped reporting.",
                "Pire niveau SMART des disques de la machine : auto-diagnostic en échec, compteurs de pré-défaillance, compteurs qui augmentent, usure et réserve NVMe, température, disque qui ne répond plus.",
            ),
            level("vigie-smart"),
        ),
        cell(
            "filesystems",
            c.tr("Filesystems", "Systèmes de fichiers"),
            c.tr(
                "Worst level of the host's filesystems: free space (with the stricter levels of watched roles), forecast time until full, inodes, read-only.",
                "Pire niveau des systèmes de fichiers : espace libre (avec les niveaux plus stricts des rôles surveillés), prévision du remplissage, inodes, lecture seule.",
            ),
            level("vigie-filesystem"),
        ),
        cell(
            "swap",
            c.tr("Swap", "Swap"),
            c.tr(
                "Swap used and swap-in rate against their levels.",
                "Swap utilisé et rythme de lecture du swap, comparés à leurs niveaux.",
            ),
            level("vigie-swap"),
        ),
        cell(
            "reboot",
            c.tr("Reboot", "Redémarrage"),
            c.tr(
                "Days since boot and days since a reboot was requested, against their levels.",
                "Jours depuis le démarrage et depuis qu'un redémarrage est demandé, comparés à leurs niveaux.",
            ),
            level("vigie-reboot"),
        ),
        cell(
            "dns",
            c.tr("DNS", "DNS"),
            c.tr(
                "Resolvers of the host: one failing is a warning, all failing (no name resolution, mail stops) is critical; slow answers too.",
                "Résolveurs de la machine : un en panne est un avertissement, tous en panne (plus de résolution de noms, le courrier s'arrête) est critique ; réponses lentes aussi.",
            ),
            level("vigie-dns"),
        ),
        cell(
            "exporter",
            c.tr("vigie", "vigie"),
            c.tr(
                "vigie itself: critical when Prometheus cannot scrape it or it has left service discovery, warning when one of its collectors fails (its alerts cannot fire).",
                "vigie elle-même : critique quand Prometheus ne peut pas la collecter ou qu'elle a disparu de la découverte de services, avertissement quand un de ses collecteurs échoue (ses alertes ne peuvent pas se déclencher).",
            ),
            // VigieAbsent (no target at all) belongs to no host.
            level_expr(c, &groups, "vigie-monitoring", &["VigieAbsent"]),
        ),
    ]
}
