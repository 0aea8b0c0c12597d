// Lab terminals: a browser tab ⇄ the portal (WebSocket, JSON protocol with sequence numbers) ⇄ the
// learner's workbench shell (Kubernetes exec). Shells outlive tabs; tabs catch up on reconnect.

export { TerminalBridge, DEFAULT_IDLE_MS, DEFAULT_REPLAY_CAPACITY } from './bridge.ts';
export type { TerminalBridgeOptions, TerminalStats, TerminalView } from './bridge.ts';
export { execShells, KEPT_SESSION_COMMAND, OBSERVE_SESSION_COMMAND, PLAIN_SHELL_COMMAND } from './exec.ts';
export { ReplayBuffer } from './replay.ts';
export type { Catchup } from './replay.ts';
export type { OpenShell, Shell, ShellEvents, ShellExit, TerminalSize, WorkbenchTarget } from './shell.ts';
export type { AttachRequest, Terminal, TerminalClient } from './terminal.ts';
export { terminalSockets } from './websocket.ts';
export type { AuthorizeTerminal, TerminalAccess, TerminalSocketOptions, TerminalSockets } from './websocket.ts';
