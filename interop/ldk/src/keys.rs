//! Deterministic LDK nodes: a KeysManager from a 32-byte seed and a fixed clock, so node ids,
//! blinded paths and onions come out the same for the same inputs.
use lightning::bitcoin::hex::DisplayHex;
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use serde_json::{json, Value};

use crate::args::Args;

pub fn keys_manager(args: &mut Args) -> Result<KeysManager, String> {
	let seed = args.bytes32("seed")?;
	// The clock only seeds KeysManager's random bytes; fixing it makes the output reproducible.
	Ok(KeysManager::new(&seed, 1_700_000_000, 0, true))
}

pub fn node_id(args: &mut Args) -> Result<Value, String> {
	let km = keys_manager(args)?;
	let id = km.get_node_id(Recipient::Node).map_err(|()| "no node id".to_string())?;
	Ok(json!({ "node_id": id.serialize().to_lower_hex_string() }))
}
