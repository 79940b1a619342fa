//! LSPS5 webhook notifications through `lightning-liquidity`: the client-side validator an LDK
//! wallet runs on every notification (`lsps5::validator::LSPS5Validator`), and a signer that does
//! what LDK's service does before it POSTs one (its `sign_notification` is private, and the public
//! service needs a running ChannelManager and a client with a channel, so the signer here takes
//! LDK's pieces: the body as `WebhookNotification` serialises it, the timestamp as
//! `LSPSDateTime::to_rfc3339` writes it, the message format, and `NodeSigner::sign_message`).
use core::str::FromStr;
use core::time::Duration;

use lightning::bitcoin::hex::DisplayHex;
use lightning::sign::{NodeSigner, Recipient};
use lightning_liquidity::lsps0::ser::LSPSDateTime;
use lightning_liquidity::lsps5::msgs::WebhookNotification;
use lightning_liquidity::lsps5::validator::LSPS5Validator;
use serde_json::{json, Value};

use crate::args::Args;
use crate::keys::keys_manager;

fn parse_body(body: &str) -> Result<WebhookNotification, String> {
	serde_json::from_str(body).map_err(|e| format!("LDK cannot parse the body: {e}"))
}

/// `lsps5-verify`: does an LDK client accept this notification from this LSP? A rejection is
/// `accepted: false` with LDK's reason, not an error.
pub fn verify(args: &mut Args) -> Result<Value, String> {
	let lsp = args.opt_pubkey("lsp-node-id")?.ok_or("--lsp-node-id is required")?;
	let timestamp = args.req("timestamp")?;
	let signature = args.req("signature")?;
	let body = args.req("body")?;
	let reject = |why: String| Ok(json!({ "accepted": false, "error": why }));
	let notification = match parse_body(&body) {
		Ok(n) => n,
		Err(e) => return reject(e),
	};
	let Ok(ts) = LSPSDateTime::from_str(&timestamp) else {
		return reject("LDK cannot parse the x-lsps5-timestamp header".into());
	};
	let validator = LSPS5Validator::new();
	match validator.validate(lsp, &ts, &signature, &notification) {
		Ok(n) => {
			// The validator remembers recent signatures: the same notification again is a replay.
			let replay = validator.validate(lsp, &ts, &signature, &notification).is_err();
			Ok(json!({
				"accepted": true,
				"body": serde_json::to_string(&n).map_err(|e| e.to_string())?,
				"replay_rejected": replay,
			}))
		}
		Err(e) => reject(format!("{} (code {})", e.message(), e.code())),
	}
}

/// `lsps5-sign`: a notification signed the way LDK's LSPS5 service signs one, by the LDK node with
/// this seed. `--as-is` signs the given body and timestamp text verbatim instead (to show what LDK's
/// validator makes of a sender that does not write them LDK's way).
pub fn sign(args: &mut Args) -> Result<Value, String> {
	let km = keys_manager(args)?;
	let as_is = args.switch("as-is")?;
	let body_in = args.req("body")?;
	let timestamp = match (args.opt_u64("timestamp-secs")?, args.opt("timestamp")?) {
		(Some(secs), None) => {
			LSPSDateTime::new_from_duration_since_epoch(Duration::from_secs(secs)).to_rfc3339()
		}
		(None, Some(t)) if as_is => t,
		_ => return Err("give --timestamp-secs, or --timestamp with --as-is".into()),
	};
	let body = if as_is {
		body_in
	} else {
		serde_json::to_string(&parse_body(&body_in)?).map_err(|e| e.to_string())?
	};
	let message =
		format!("LSPS5: DO NOT SIGN THIS MESSAGE MANUALLY: LSP: At {timestamp} I notify {body}");
	let signature = km.sign_message(message.as_bytes()).map_err(|()| "signing failed")?;
	let lsp = km.get_node_id(Recipient::Node).map_err(|()| "no node id")?;
	Ok(json!({
		"lsp_node_id": lsp.serialize().to_lower_hex_string(),
		"timestamp": timestamp,
		"signature": signature,
		"body": body,
	}))
}
