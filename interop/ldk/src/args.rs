//! `--flag value` and `--switch` arguments; every flag must be used, so a typo is an error.
use lightning::bitcoin::hex::FromHex;
use lightning::bitcoin::secp256k1::PublicKey;
use std::collections::BTreeMap;

pub struct Args {
	flags: BTreeMap<String, Vec<Option<String>>>,
}

impl Args {
	pub fn parse(argv: &[String]) -> Result<Self, String> {
		let mut flags: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
		let mut it = argv.iter().peekable();
		while let Some(a) = it.next() {
			let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a}"))?;
			let value = match it.peek() {
				Some(v) if !v.starts_with("--") => it.next().cloned(),
				_ => None,
			};
			flags.entry(name.to_string()).or_default().push(value);
		}
		Ok(Self { flags })
	}

	/// Every value given for a repeatable flag, in order.
	pub fn all(&mut self, name: &str) -> Result<Vec<String>, String> {
		self.flags
			.remove(name)
			.unwrap_or_default()
			.into_iter()
			.map(|v| v.ok_or_else(|| format!("--{name} needs a value")))
			.collect()
	}

	pub fn opt(&mut self, name: &str) -> Result<Option<String>, String> {
		let mut v = self.all(name)?;
		if v.len() > 1 {
			return Err(format!("--{name} given {} times", v.len()));
		}
		Ok(v.pop())
	}

	pub fn req(&mut self, name: &str) -> Result<String, String> {
		self.opt(name)?.ok_or_else(|| format!("--{name} is required"))
	}

	pub fn switch(&mut self, name: &str) -> Result<bool, String> {
		match self.flags.remove(name) {
			None => Ok(false),
			Some(v) if v.len() == 1 && v[0].is_none() => Ok(true),
			Some(_) => Err(format!("--{name} takes no value and is given once")),
		}
	}

	pub fn u64(&mut self, name: &str) -> Result<u64, String> {
		let s = self.req(name)?;
		s.parse().map_err(|_| format!("--{name}: not an unsigned integer: {s}"))
	}

	pub fn opt_u64(&mut self, name: &str) -> Result<Option<u64>, String> {
		self.opt(name)?
			.map(|s| s.parse().map_err(|_| format!("--{name}: not an unsigned integer: {s}")))
			.transpose()
	}

	pub fn bytes(&mut self, name: &str) -> Result<Vec<u8>, String> {
		hex(name, &self.req(name)?)
	}

	pub fn bytes32(&mut self, name: &str) -> Result<[u8; 32], String> {
		let b = self.bytes(name)?;
		b.try_into().map_err(|b: Vec<u8>| format!("--{name}: {} bytes, need 32", b.len()))
	}

	pub fn pubkeys(&mut self, name: &str) -> Result<Vec<PublicKey>, String> {
		self.all(name)?.iter().map(|s| pubkey(name, s)).collect()
	}

	pub fn opt_pubkey(&mut self, name: &str) -> Result<Option<PublicKey>, String> {
		self.opt(name)?.map(|s| pubkey(name, &s)).transpose()
	}

	/// Errors on any flag no subcommand step asked for.
	pub fn finish(&self) -> Result<(), String> {
		match self.flags.keys().next() {
			Some(k) => Err(format!("unknown flag --{k}")),
			None => Ok(()),
		}
	}
}

pub fn hex(name: &str, s: &str) -> Result<Vec<u8>, String> {
	Vec::<u8>::from_hex(s).map_err(|e| format!("--{name}: not hex: {e}"))
}

fn pubkey(name: &str, s: &str) -> Result<PublicKey, String> {
	PublicKey::from_slice(&hex(name, s)?).map_err(|e| format!("--{name}: not a public key: {e}"))
}
