// The types vigie's generated dashboards must satisfy, from Grafana's own
// published schema (npm @grafana/schema). tests/integration/dashboards.rs
// writes each dashboard as a TypeScript constant of these types into
// generated/ and runs `tsc --strict` on it.

import type { Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel } from '@grafana/schema';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/**
 * Grafana's string enums (`ThresholdsMode.Absolute`) as their values
 * (`"absolute"`), so that plain JSON can satisfy the types. Numeric enums
 * already accept their numbers.
 */
export type Literal<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? Literal<U>[]
    : T extends object
      ? { [K in keyof T]: Literal<T[K]> }
      : T;

/** A panel of one type, with that panel plugin's own options and custom field config. */
type Typed<Type extends string, Options, Custom> = Omit<Panel, 'type' | 'options' | 'fieldConfig'> & {
  type: Type;
  options: Options;
  fieldConfig: Omit<FieldConfigSource, 'defaults'> & {
    defaults: Omit<FieldConfig, 'custom'> & { custom?: Custom };
  };
};

/** The panel types vigie writes. Any other type is an error. */
export type VigiePanel =
  | Literal<Typed<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>>
  | Literal<Typed<'table', Table.Options, Table.FieldConfig>>
  | Literal<Typed<'stat', Stat.Options, never>>
  | Literal<Typed<'bargauge', BarGauge.Options, never>>
  | Literal<Typed<'state-timeline', StateTimeline.Options, StateTimeline.FieldConfig>>;

/** Grafana's `Dashboard` type, with each panel checked against its plugin's types. */
export type VigieDashboard = Omit<Literal<Dashboard>, 'panels'> & {
  panels: Array<VigiePanel | Literal<RowPanel>>;
};

/** Grafana's `Dashboard` type itself, enums as literals. */
export type GrafanaDashboard = Literal<Dashboard>;
