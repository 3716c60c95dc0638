// Every error code Phoenix throws, in one list: docs/errors.md explains each, and a test fails when the two differ.
export const ERROR_CODES = [
  // common
  'PHX_CONFIG_INVALID',
  'PHX_USAGE',
  'PHX_CLOSE_FAILED',
  'PHX_CALLING_RULE',
  'PHX_FILES_NOT_FOUND',
  // agent
  'PHX_COLLECTOR_NOT_FOUND',
  'PHX_PIPELINE_TEMPLATE',
  'PHX_PORT_IN_USE',
  'PHX_COLLECTOR_START_FAILED',
  'PHX_TIMEOUT',
  'PHX_SCANNER_ENDED',
  // hub
  'PHX_STORE_OPEN',
  'PHX_LISTEN_FAILED',
  'PHX_HTTP_BAD_REQUEST',
  'PHX_HTTP_NOT_FOUND',
  'PHX_STORE_TIERS',
  'PHX_INGEST_CLOSED',
  // packaging
  'PHX_COLLECTOR_BUILD_FAILED',
  'PHX_PACKAGING_TOOL',
  // tools
  'PHX_SIMULATOR_UNSUPPORTED',
  'PHX_SIMULATOR_START_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
