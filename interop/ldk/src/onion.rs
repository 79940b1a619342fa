//! Onion messages through LDK's own builder and peeler (`lightning::onion_message::messenger`).
//!
//! Onion messages go in and out as LDK encodes `msgs::OnionMessage`: path key, u16 length, packet
//! (the `onion_message` body without its 2-byte type 513). Blinded paths as LDK encodes them.
use core::cell::RefCell;
use core::time::Duration;

use lightning::bitcoin::hex::DisplayHex;
use lightning::bitcoin::secp256k1::{PublicKey, Secp256k1};
use lightning::blinded_path::message::{
	AsyncPaymentsContext, BlindedMessagePath, MessageContext, MessageForwardNode, NextMessageHop,
};
use lightning::blinded_path::EmptyNodeIdLookUp;
use lightning::ln::channelmanager::{InterceptId, PaymentId};
use lightning::ln::msgs::OnionMessage;
use lightning::ln::peer_handler::IgnoringMessageHandler;
use lightning::onion_message::async_payments::{
	AsyncPaymentsMessage, HeldHtlcAvailable, ReleaseHeldHtlc,
};
use lightning::onion_message::messenger::{
	create_onion_message, peel_onion_message, Destination, OnionMessagePath, PeeledOnion,
};
use lightning::onion_message::packet::OnionMessageContents;
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use lightning::util::logger::{Logger, Record};
use lightning::util::ser::{LengthReadable, Readable, Writeable};
use serde_json::{json, Value};

use crate::args::{hex, Args};
use crate::keys::keys_manager;

/// Keeps LDK's log lines, so a refusal can say why (LDK's peeler returns only `Err(())`).
#[derive(Default)]
struct Capture(RefCell<Vec<String>>);

impl Logger for Capture {
	fn log(&self, record: Record) {
		self.0.borrow_mut().push(format!("{} {}", record.level, record.args));
	}
}

fn our_id(km: &KeysManager) -> Result<PublicKey, String> {
	km.get_node_id(Recipient::Node).map_err(|()| "no node id".to_string())
}

fn read_path(name: &str, s: &str) -> Result<BlindedMessagePath, String> {
	let b = hex(name, s)?;
	let mut r = &b[..];
	let p = BlindedMessagePath::read(&mut r)
		.map_err(|e| format!("--{name}: LDK cannot read it: {e:?}"))?;
	if !r.is_empty() {
		return Err(format!("--{name}: {} trailing bytes", r.len()));
	}
	Ok(p)
}

fn forward_nodes(args: &mut Args, name: &str) -> Result<Vec<MessageForwardNode>, String> {
	Ok(args
		.pubkeys(name)?
		.into_iter()
		.map(|node_id| MessageForwardNode { node_id, short_channel_id: None })
		.collect())
}

/// LDK's DefaultMessageRouter pads non-compact paths with dummy hops to this many hops
/// (`PADDED_PATH_LENGTH`, crate-private), so the paths LDK nodes hand out look like this.
const LDK_PADDED_PATH_LENGTH: usize = 4;

/// A path ending at this LDK node: intermediate nodes from `--{via}`, then dummy hops (--dummy-hops,
/// by default as many as LDK's router adds).
fn path_to_us(
	args: &mut Args,
	km: &KeysManager,
	via: &str,
	context: MessageContext,
) -> Result<BlindedMessagePath, String> {
	let nodes = forward_nodes(args, via)?;
	let dummies = match args.opt_u64("dummy-hops")? {
		Some(n) => n as usize,
		None => LDK_PADDED_PATH_LENGTH.saturating_sub(nodes.len() + 1),
	};
	let secp = Secp256k1::new();
	Ok(BlindedMessagePath::new_with_dummy_hops(
		&nodes,
		our_id(km)?,
		dummies,
		km.get_receive_auth_key(),
		context,
		km,
		&secp,
	))
}

fn send<T: OnionMessageContents>(
	km: &KeysManager,
	via: Vec<PublicKey>,
	destination: Destination,
	contents: T,
	reply_path: Option<BlindedMessagePath>,
) -> Result<Value, String> {
	let secp = Secp256k1::new();
	let path =
		OnionMessagePath { intermediate_nodes: via, destination, first_node_addresses: vec![] };
	let (first, msg, _) =
		create_onion_message(&km, &km, &EmptyNodeIdLookUp {}, &secp, path, contents, reply_path)
			.map_err(|e| format!("LDK could not build the onion message: {e:?}"))?;
	Ok(json!({
		"first_node_id": first.serialize().to_lower_hex_string(),
		"onion_message": msg.encode().to_lower_hex_string(),
	}))
}

fn destination(args: &mut Args) -> Result<Destination, String> {
	match (args.opt_pubkey("to-node")?, args.opt("to-path")?) {
		(Some(pk), None) => Ok(Destination::Node(pk)),
		(None, Some(p)) => Ok(Destination::BlindedPath(read_path("to-path", &p)?)),
		_ => Err("give exactly one of --to-node and --to-path".into()),
	}
}

/// The context LDK puts in its reply path for held_htlc_available, from --context:
/// `release-held-htlc` (LDK as the sender's LSP holding the HTLC: --intercept-id, --scid,
/// --htlc-id) or `outbound-payment` (LDK as an always-online sender: --payment-id).
fn reply_context(args: &mut Args) -> Result<AsyncPaymentsContext, String> {
	match args.req("context")?.as_str() {
		"release-held-htlc" => Ok(AsyncPaymentsContext::ReleaseHeldHtlc {
			intercept_id: InterceptId(args.bytes32("intercept-id")?),
			prev_outbound_scid_alias: args.u64("scid")?,
			htlc_id: args.u64("htlc-id")?,
		}),
		"outbound-payment" => Ok(AsyncPaymentsContext::OutboundPayment {
			payment_id: PaymentId(args.bytes32("payment-id")?),
		}),
		c => Err(format!("--context {c}: release-held-htlc or outbound-payment")),
	}
}

fn context_json(c: &AsyncPaymentsContext) -> Value {
	match c {
		AsyncPaymentsContext::ReleaseHeldHtlc {
			intercept_id,
			prev_outbound_scid_alias,
			htlc_id,
		} => json!({
			"type": "release_held_htlc",
			"intercept_id": intercept_id.0.to_lower_hex_string(),
			"prev_outbound_scid_alias": prev_outbound_scid_alias,
			"htlc_id": htlc_id,
		}),
		AsyncPaymentsContext::OutboundPayment { payment_id } => json!({
			"type": "outbound_payment",
			"payment_id": payment_id.0.to_lower_hex_string(),
		}),
		AsyncPaymentsContext::InboundPayment { path_absolute_expiry } => json!({
			"type": "inbound_payment",
			"path_absolute_expiry": path_absolute_expiry.as_secs(),
		}),
		other => json!({ "type": "other", "debug": format!("{other:?}") }),
	}
}

/// LDK sends held_htlc_available (as an LSP holding an HTLC, or as a sender) with a reply path to
/// itself through --reply-via nodes.
pub fn held_htlc_available(args: &mut Args) -> Result<Value, String> {
	let km = keys_manager(args)?;
	let dest = destination(args)?;
	let via = args.pubkeys("via")?;
	let context = MessageContext::AsyncPayments(reply_context(args)?);
	let reply = path_to_us(args, &km, "reply-via", context)?;
	let msg = AsyncPaymentsMessage::HeldHtlcAvailable(HeldHtlcAvailable {});
	let mut out = send(&km, via, dest, msg, Some(reply.clone()))?;
	out["reply_path"] = reply.encode().to_lower_hex_string().into();
	Ok(out)
}

/// The message path an LDK async recipient publishes (static invoice): InboundPayment context.
pub fn message_path(args: &mut Args) -> Result<Value, String> {
	let km = keys_manager(args)?;
	let expiry = Duration::from_secs(args.u64("expiry")?);
	let context = MessageContext::AsyncPayments(AsyncPaymentsContext::InboundPayment {
		path_absolute_expiry: expiry,
	});
	let path = path_to_us(args, &km, "via", context)?;
	Ok(json!({
		"node_id": our_id(&km)?.serialize().to_lower_hex_string(),
		"path": path.encode().to_lower_hex_string(),
	}))
}

/// LDK answers held_htlc_available the way its messenger sends a response: release_held_htlc to the
/// reply path, no reply path of its own.
pub fn release_held_htlc(args: &mut Args) -> Result<Value, String> {
	let km = keys_manager(args)?;
	let path = read_path("reply-path", &args.req("reply-path")?)?;
	send(&km, vec![], Destination::BlindedPath(path), ReleaseHeldHtlc {}, None)
}

/// LDK's peel_onion_message with this node's keys: a forward, or what it received.
pub fn peel(args: &mut Args) -> Result<Value, String> {
	let km = keys_manager(args)?;
	let bytes = args.bytes("message")?;
	let respond = args.switch("respond")?;
	let msg = OnionMessage::read_from_fixed_length_buffer(&mut &bytes[..])
		.map_err(|e| format!("--message: LDK cannot read the onion_message: {e:?}"))?;
	let secp = Secp256k1::new();
	let log = Capture::default();
	let peeled = peel_onion_message(&msg, &secp, &km, &log, &IgnoringMessageHandler {});
	let log_lines: Vec<String> = log.0.borrow().clone();
	let Ok(peeled) = peeled else {
		return Ok(json!({ "kind": "refused", "log": log_lines }));
	};
	let path_hex =
		|p: &Option<BlindedMessagePath>| p.as_ref().map(|p| p.encode().to_lower_hex_string());
	let out = match peeled {
		PeeledOnion::Forward(next, onion) => {
			let mut o =
				json!({ "kind": "forward", "onion_message": onion.encode().to_lower_hex_string() });
			match next {
				NextMessageHop::NodeId(pk) => {
					o["next_node_id"] = pk.serialize().to_lower_hex_string().into()
				}
				NextMessageHop::ShortChannelId(scid) => o["next_short_channel_id"] = scid.into(),
			}
			o
		}
		PeeledOnion::AsyncPayments(m, context, reply_path) => {
			let name = match &m {
				AsyncPaymentsMessage::HeldHtlcAvailable(_) => "held_htlc_available",
				AsyncPaymentsMessage::ReleaseHeldHtlc(_) => "release_held_htlc",
				_ => m.msg_type(),
			};
			let mut o = json!({
				"kind": "async_payments",
				"message": name,
				"tlv_type": m.tlv_type(),
				"context": context_json(&context),
				"reply_path": path_hex(&reply_path),
			});
			if respond {
				let Some(reply) = reply_path else {
					return Err("--respond: the message has no reply path".into());
				};
				o["response"] =
					send(&km, vec![], Destination::BlindedPath(reply), ReleaseHeldHtlc {}, None)?;
			}
			o
		}
		PeeledOnion::Offers(m, _, reply_path) => {
			json!({ "kind": "offers", "message": m.msg_type(), "reply_path": path_hex(&reply_path) })
		}
		PeeledOnion::DNSResolver(_, _, reply_path) => {
			json!({ "kind": "dns_resolver", "reply_path": path_hex(&reply_path) })
		}
		PeeledOnion::Custom(never, _, _) => match never {},
	};
	let mut out = out;
	out["log"] = log_lines.into();
	Ok(out)
}
