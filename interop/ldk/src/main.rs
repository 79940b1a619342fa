//! ldk-interop: LDK's own code building and reading the messages async-trampoline exchanges with LDK
//! peers. The TypeScript tests (test/interop/) run one subcommand per step, hex in and JSON out.
//!
//! Usage: ldk-interop <subcommand> [--flag value]... ; prints one JSON object on stdout and exits 0,
//! or prints {"error": "..."} and exits 1 (2 for a usage error). Subcommands: see `COMMANDS`.
mod args;
mod keys;
mod lsps5;
mod onion;
mod update_add;

use args::Args;
use serde_json::{json, Value};

/// A subcommand: reads its flags, returns the JSON to print or an error message.
pub type Command = fn(&mut Args) -> Result<Value, String>;

/// Every subcommand, by name. To add one, write `fn(&mut Args) -> Result<Value, String>` in a
/// module of its own and list it here (see interop/ldk/README.md).
const COMMANDS: &[(&str, Command, &str)] = &[
	("node-id", keys::node_id, "--seed HEX: the node id of the LDK node with this seed"),
	("version", version, "the pinned lightning crate version"),
	(
		"held-htlc-available",
		onion::held_htlc_available,
		"--seed HEX (--to-node PK | --to-path HEX) [--via PK]... [--reply-via PK]... [--dummy-hops N] \
		 --context C: LDK sends held_htlc_available with a reply path back to itself (padded with dummy \
		 hops as LDK's router does unless --dummy-hops)",
	),
	(
		"message-path",
		onion::message_path,
		"--seed HEX [--via PK]... [--dummy-hops N] --expiry SECS: the blinded message path an LDK async recipient \
		 puts in its static invoice (context InboundPayment)",
	),
	(
		"peel",
		onion::peel,
		"--seed HEX --message HEX [--respond]: LDK's peel_onion_message; with --respond, LDK's \
		 release_held_htlc answer over the reply path",
	),
	(
		"release-held-htlc",
		onion::release_held_htlc,
		"--seed HEX --reply-path HEX: LDK sends release_held_htlc over a reply path",
	),
	(
		"update-add",
		update_add::write,
		"--channel-id HEX --htlc-id N --amount-msat N --payment-hash HEX --cltv-expiry N \
		 --onion HEX [--blinding-point PK] [--skimmed-fee-msat N] [--hold-htlc]: LDK's \
		 update_add_htlc bytes",
	),
	(
		"lsps5-verify",
		lsps5::verify,
		"--lsp-node-id PK --timestamp S --signature S --body JSON: whether LDK's LSPS5 client-side \
		 validator accepts this webhook notification (x-lsps5-timestamp / x-lsps5-signature headers)",
	),
	(
		"lsps5-sign",
		lsps5::sign,
		"--seed HEX --body JSON (--timestamp-secs N | --timestamp S --as-is) [--as-is]: a webhook \
		 notification signed as LDK's LSPS5 service signs one (or the given text verbatim)",
	),
	(
		"read-update-add",
		update_add::read,
		"--message HEX: the update_add_htlc LDK reads from these bytes",
	),
];

fn version(_: &mut Args) -> Result<Value, String> {
	Ok(json!({ "lightning": LIGHTNING_VERSION }))
}

/// Must match Cargo.toml's pin (checked by the tests against the README).
const LIGHTNING_VERSION: &str = "0.2.7";

fn usage() -> String {
	let mut s = String::from("usage: ldk-interop <subcommand> [flags]\n");
	for (name, _, help) in COMMANDS {
		s.push_str(&format!("  {name}: {help}\n"));
	}
	s
}

fn main() {
	let argv: Vec<String> = std::env::args().skip(1).collect();
	let Some(name) = argv.first() else {
		eprint!("{}", usage());
		std::process::exit(2);
	};
	let Some((_, cmd, _)) = COMMANDS.iter().find(|(n, _, _)| n == name) else {
		eprint!("unknown subcommand {name}\n{}", usage());
		std::process::exit(2);
	};
	let mut args = match Args::parse(&argv[1..]) {
		Ok(a) => a,
		Err(e) => {
			eprint!("{e}\n{}", usage());
			std::process::exit(2);
		}
	};
	let result = cmd(&mut args).and_then(|v| args.finish().map(|()| v));
	match result {
		Ok(v) => println!("{v}"),
		Err(e) => {
			println!("{}", json!({ "error": e }));
			std::process::exit(1);
		}
	}
}
