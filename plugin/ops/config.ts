// Operator configuration, the public entry: one option vocabulary for both hosts, each setting one
// row of the table in config-table.ts (CLN option `async-trampoline-<name>`, sidecar flag `--<name>`,
// environment variable `ASYNC_TRAMPOLINE_<NAME>`, sidecar config-file key). The pieces, by job:
// - config-table.ts: the option table (a feature adds its settings there, as one block)
// - config-resolve.ts: sources to typed values (flag > environment > config file > default)
// - config-file.ts: the sidecar's config file
// - config-rules.ts: rules across options; each feature's settings from resolved values
// - config-sidecar.ts: the sidecar's flags, `--help` and SidecarConfig
export { envName, clnName, type OptionSpec, type Host } from './options.js';
export { OPTIONS, CONFIG_FLAG, CONFIG_FILE_NAME } from './config-table.js';
export { ConfigError, OptionValues, resolveOptions, type RawSources } from './config-resolve.js';
export { parseConfigFile, configFilePath, readConfigFile } from './config-file.js';
export { typeProblems, engineConfigOf, recipientLspOf, lsps5Of } from './config-rules.js';
export { parseSidecarConfig, sidecarHelp, type SidecarConfig } from './config-sidecar.js';
