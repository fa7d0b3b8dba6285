#!/usr/bin/env node
// Idle RSS of the device agent: start the built CLI against a dummy WebSocket
// server (accepts the connection, never answers Hello) and against an address
// where nothing listens, and connected to a real AipServer (idle, heartbeats), let it settle, read VmRSS / RssAnon from /proc (Linux).
// Also measures a bare `node` process for comparison: the runtime alone is
// most of the figure. Prints one line per case.
// Usage: node scripts/bench/agent-idle-rss.mjs [settleSeconds=8]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AipServer } from "@orrery/protocol";
import { WebSocketServer } from "ws";

const settleMs = Number(process.argv[2] ?? 8) * 1000;
const root = path.resolve(
	path.dirname(fileURLToPath(import.meta.url)),
	"..",
	"..",
);
const bin = path.join(root, "device-agent", "bin", "orrery-agent.js");

function memOf(pid) {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const kb = (k) =>
		Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
	return {
		rssMb: kb("VmRSS") / 1024,
		anonMb: kb("RssAnon") / 1024,
		fileMb: kb("RssFile") / 1024,
	};
}

async function measure(label, args) {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "orrery-rss-"));
	const child = spawn(process.execPath, args(dataDir), { stdio: "ignore" });
	try {
		await new Promise((r) => setTimeout(r, settleMs));
		const m = memOf(child.pid);
		console.log(
			`${label.padEnd(40)} VmRSS ${m.rssMb.toFixed(1)} MB  (anon ${m.anonMb.toFixed(1)} MB, file-backed ${m.fileMb.toFixed(1)} MB)`,
		);
		return m;
	} finally {
		child.kill("SIGKILL");
		await new Promise((r) => child.once("exit", r));
		rmSync(dataDir, { recursive: true, force: true });
	}
}

if (process.platform !== "linux") {
	console.log("agent-idle-rss: needs /proc (Linux); skipped");
	process.exit(0);
}
const aip = new AipServer({
	authenticate: (hello) => ({ ok: true, deviceId: hello.deviceName }),
});
const aipPort = await aip.listenWebSocket("127.0.0.1", 0);
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await new Promise((r) => wss.once("listening", r));
const url = `ws://127.0.0.1:${wss.address().port}`;
console.log(
	`agent idle RSS, node ${process.version}, settle ${settleMs / 1000}s, target < 40 MB`,
);
await measure("bare node (setInterval)", () => [
	"-e",
	"setInterval(() => {}, 1000)",
]);
await measure("agent, connected and idle (heartbeats)", (d) => [
	bin,
	"--server",
	`ws://127.0.0.1:${aipPort}/v1/aip`,
	"--data-dir",
	d,
	"--log-level",
	"warn",
]);
await measure("agent, dummy ws server (no Welcome)", (d) => [
	bin,
	"--server",
	url,
	"--data-dir",
	d,
	"--log-level",
	"warn",
]);
await measure("agent, nothing listening (reconnecting)", (d) => [
	bin,
	"--server",
	"ws://127.0.0.1:9",
	"--data-dir",
	d,
	"--log-level",
	"warn",
]);
await measure("agent --max-semi-space-size=1", (d) => [
	"--max-semi-space-size=1",
	bin,
	"--server",
	url,
	"--data-dir",
	d,
	"--log-level",
	"warn",
]);
wss.close();
await aip.close();
