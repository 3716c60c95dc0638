// The agent's JSON report (README, "JSON report reference"): its schema and types live in protocol/,
// shared with the hub that validates it.
export {
  REPORT_SCHEMA_VERSION,
  type AgentReport,
  type Comparison,
  type PipelineTelemetry,
  type PricingModel,
  type ProcessorFlow,
  type VariantReport,
} from '../../protocol/report.js';
