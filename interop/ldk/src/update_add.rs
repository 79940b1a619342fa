//! update_add_htlc through LDK's own codec (`lightning::ln::msgs::UpdateAddHTLC`), without the
//! 2-byte message type: the fixed fields, the 1366-byte onion, then the TLV stream (blinding point
//! 0, skimmed fee 65537, hold_htlc 75537).
use lightning::bitcoin::hex::DisplayHex;
use lightning::ln::msgs::{OnionPacket, UpdateAddHTLC};
use lightning::ln::types::ChannelId;
use lightning::types::payment::PaymentHash;
use lightning::util::ser::{LengthReadable, Readable, Writeable};
use serde_json::{json, Value};

use crate::args::Args;

pub fn write(args: &mut Args) -> Result<Value, String> {
	let onion = args.bytes("onion")?;
	let mut r = &onion[..];
	let onion_routing_packet =
		OnionPacket::read(&mut r).map_err(|e| format!("--onion: LDK cannot read it: {e:?}"))?;
	if !r.is_empty() {
		return Err(format!("--onion: {} trailing bytes", r.len()));
	}
	let cltv = args.u64("cltv-expiry")?;
	let msg = UpdateAddHTLC {
		channel_id: ChannelId(args.bytes32("channel-id")?),
		htlc_id: args.u64("htlc-id")?,
		amount_msat: args.u64("amount-msat")?,
		payment_hash: PaymentHash(args.bytes32("payment-hash")?),
		cltv_expiry: u32::try_from(cltv).map_err(|_| "--cltv-expiry: more than 32 bits")?,
		skimmed_fee_msat: args.opt_u64("skimmed-fee-msat")?,
		onion_routing_packet,
		blinding_point: args.opt_pubkey("blinding-point")?,
		hold_htlc: args.switch("hold-htlc")?.then_some(()),
	};
	Ok(json!({ "message": msg.encode().to_lower_hex_string() }))
}

pub fn read(args: &mut Args) -> Result<Value, String> {
	let bytes = args.bytes("message")?;
	let m = UpdateAddHTLC::read_from_fixed_length_buffer(&mut &bytes[..])
		.map_err(|e| format!("--message: LDK cannot read the update_add_htlc: {e:?}"))?;
	Ok(json!({
		"channel_id": m.channel_id.0.to_lower_hex_string(),
		"htlc_id": m.htlc_id,
		"amount_msat": m.amount_msat,
		"payment_hash": m.payment_hash.0.to_lower_hex_string(),
		"cltv_expiry": m.cltv_expiry,
		"skimmed_fee_msat": m.skimmed_fee_msat,
		"blinding_point": m.blinding_point.map(|p| p.serialize().to_lower_hex_string()),
		"hold_htlc": m.hold_htlc.is_some(),
		"reencoded": m.encode().to_lower_hex_string(),
	}))
}
