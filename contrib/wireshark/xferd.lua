-- SPDX-License-Identifier: BSD-3-Clause
--
-- Wireshark dissector for the xferd wire protocol, version 2 (docs/PROTOCOL.md; the
-- contract in code is dataplane/proto/xf_proto.h). It names every frame type and field,
-- the Noise messages a HELLO and a HELLO_ACK carry (docs/SECURITY.md 2.1, 2.2) and the
-- cookie reply, and shows the payload of a sealed frame (session.security aead, the
-- default) as encrypted: the keys never leave the appliances, so only the header (the
-- associated data, in clear) is decoded, and the payload and its 16-byte tag are shown
-- as such.
--
-- A frame that breaks a rule the codec checks (docs/PROTOCOL.md section 5) gets an
-- expert error naming the codec's reason (truncated, trailing, reserved, count, field,
-- range, length), in the group Malformed, so Wireshark marks it malformed too; a
-- well-formed capture has none. Every read is bounds-checked first: no input makes the
-- dissector itself fail.
--
-- Use: tshark -X lua_script:contrib/wireshark/xferd.lua -r CAPTURE, or copy the file to
-- ~/.local/lib/wireshark/plugins/. It decodes UDP port 7010 (the default of
-- ports[].udp_port) and, by a heuristic (magic, version, type and the header's length
-- against the datagram), xferd on any other port.
--
-- Over 1,000 lines: one plugin is one file (a plugin directory loads each .lua alone),
-- and it holds every frame type's fields and rules, as the codec's two files do.
--
-- Which frames are sealed: a session whose HELLO is in the capture is sealed when that
-- HELLO has XF_HELLO_F_AEAD; a frame of a session whose HELLO was not captured is taken
-- as sealed when it carries a key phase or epoch bit, or when it does not decode as a
-- frame in clear (preference "unknown_sessions" changes this).
--
-- Over 1,000 lines: one concern, the wire format as docs/PROTOCOL.md gives it, every frame
-- type's fields beside the codec's checks of them; Wireshark loads a plugin as one file,
-- and splitting it would need a loader that its users would have to install too.

local xf = Proto("xferd", "xferd file transfer protocol")

local HDR_LEN = 24
local TAG_LEN = 16
local MAGIC = 0x5846
local PAYLOAD_MAX = 8972

local types = {
	[1] = "HELLO", [2] = "HELLO_ACK", [3] = "FLIST", [4] = "DECISION", [5] = "SIG",
	[6] = "DATA", [7] = "COPY", [8] = "FILE_END", [9] = "COMMIT", [10] = "ACK",
	[11] = "DONE", [12] = "ABORT", [13] = "PING",
}
local abort_codes = {
	[0] = "NONE", [1] = "VERSION", [2] = "REFUSED", [3] = "BUSY", [4] = "TIMEOUT",
	[5] = "SHUTDOWN", [6] = "CANCEL", [7] = "PROTOCOL",
}
local file_status = {
	[0] = "OK", [1] = "BAD_PATH", [2] = "ESCAPE", [3] = "IO", [4] = "NOSPACE",
	[5] = "CHECKSUM", [6] = "SIZE", [7] = "CONFLICT", [8] = "LINK",
	[9] = "ATTR", [10] = "REDO", [11] = "XATTR", [12] = "TOOBIG",
}
-- A failure status (docs/PROTOCOL.md 3.3): 1..9, 11 (XATTR), 12 (TOOBIG); 10 is REDO.
local function failure_status(st)
	return st >= 1 and st <= 12 and st ~= 10
end
local kinds = { [1] = "regular", [2] = "directory", [3] = "symlink", [4] = "hard link" }
local decisions = { [1] = "UPTODATE", [2] = "WHOLE", [3] = "DELTA", [4] = "REFUSED" }
local del_status = { [0] = "OK", [1] = "LIMIT", [2] = "SKIPPED", [3] = "ERROR" }
local noise_types = { [1] = "initiation", [2] = "response", [3] = "cookie reply" }

local F = {}
local function uint(key, label, ftype, base, vs, mask, desc)
	F[key] = ftype("xferd." .. key, label, base, vs, mask, desc)
end

-- Header (section 2).
uint("magic", "Magic", ProtoField.uint16, base.HEX)
uint("version", "Version", ProtoField.uint8, base.DEC)
uint("type", "Type", ProtoField.uint8, base.DEC, types)
uint("flags", "Flags", ProtoField.uint16, base.HEX)
F["flags.noack"] = ProtoField.bool("xferd.flags.noack", "NOACK", 16, nil, 0x0001)
F["flags.reply"] = ProtoField.bool("xferd.flags.reply", "REPLY (from the responder)", 16, nil, 0x0002)
F["flags.acknow"] = ProtoField.bool("xferd.flags.acknow", "ACKNOW", 16, nil, 0x0004)
F["flags.key_phase"] = ProtoField.bool("xferd.flags.key_phase", "KEY_PHASE", 16, nil, 0x0008)
F["flags.key_epoch"] = ProtoField.bool("xferd.flags.key_epoch", "KEY_EPOCH", 16, nil, 0x0010)
F["flags.redo"] = ProtoField.bool("xferd.flags.redo", "REDO (a file sent again whole)", 16, nil, 0x0020)
F["flags.xattr"] = ProtoField.bool("xferd.flags.xattr", "XATTR (FLIST entries end with their attribute sets)", 16, nil, 0x0040)
F["flags.names"] = ProtoField.bool("xferd.flags.names", "NAMES (FLIST: a name table follows the entries)", 16, nil, 0x0080)
F["flags.end"] = ProtoField.bool("xferd.flags.end", "END (DATA: the file's one frame, its CRC-64 after the bytes)", 16, nil, 0x0100)
uint("flags.reserved", "Reserved flag bits", ProtoField.uint16, base.HEX, nil, 0xfe00)
uint("len", "Payload length", ProtoField.uint16, base.DEC)
uint("session", "Session", ProtoField.uint32, base.HEX)
uint("reserved", "Reserved", ProtoField.uint32, base.HEX)
uint("pn", "Packet number", ProtoField.uint64, base.DEC)
-- Sealed frames (section 2.1).
F["sealed"] = ProtoField.bool("xferd.sealed", "Sealed (AES-256-GCM)")
F["encrypted"] = ProtoField.bytes("xferd.encrypted", "Encrypted payload (keys absent)")
F["encrypted_len"] = ProtoField.uint32("xferd.encrypted_len", "Encrypted payload length", base.DEC)
F["tag"] = ProtoField.bytes("xferd.tag", "AEAD tag")
-- HELLO / HELLO_ACK (3.1).
uint("hello.min_version", "Min version", ProtoField.uint16, base.DEC)
uint("hello.max_version", "Max version", ProtoField.uint16, base.DEC)
uint("hello.max_payload", "Max payload", ProtoField.uint16, base.DEC)
uint("hello.status", "Status", ProtoField.uint16, base.DEC, abort_codes)
uint("hello.window", "Window", ProtoField.uint32, base.DEC)
uint("hello.flags", "HELLO flags", ProtoField.uint32, base.HEX)
F["hello.flags.checksum"] = ProtoField.bool("xferd.hello.flags.checksum", "CHECKSUM", 32, nil, 0x1)
F["hello.flags.aead"] = ProtoField.bool("xferd.hello.flags.aead", "AEAD", 32, nil, 0x2)
F["hello.flags.delete"] = ProtoField.bool("xferd.hello.flags.delete", "DELETE", 32, nil, 0x4)
F["hello.flags.volume"] = ProtoField.bool("xferd.hello.flags.volume", "VOLUME", 32, nil, 0x8)
F["hello.flags.cookie"] = ProtoField.bool("xferd.hello.flags.cookie", "COOKIE (HELLO_ACK: a cookie reply)", 32, nil, 0x10)
F["hello.flags.dryrun"] = ProtoField.bool("xferd.hello.flags.dryrun", "DRYRUN", 32, nil, 0x20)
F["hello.flags.itemize"] = ProtoField.bool("xferd.hello.flags.itemize", "ITEMIZE", 32, nil, 0x40)
F["hello.flags.hardlinks"] = ProtoField.bool("xferd.hello.flags.hardlinks", "HARDLINKS", 32, nil, 0x80)
F["hello.flags.compress"] = ProtoField.bool("xferd.hello.flags.compress", "COMPRESS (HELLO_ACK: the receiver's volume asks for it)", 32, nil, 0x100)
F["hello.flags.owner"] = ProtoField.bool("xferd.hello.flags.owner", "OWNER", 32, nil, 0x200)
F["hello.flags.xattrs"] = ProtoField.bool("xferd.hello.flags.xattrs", "XATTRS", 32, nil, 0x400)
F["hello.flags.acls"] = ProtoField.bool("xferd.hello.flags.acls", "ACLS", 32, nil, 0x800)
F["hello.flags.pull"] = ProtoField.bool("xferd.hello.flags.pull", "PULL", 32, nil, 0x1000)
F["hello.flags.owner_names"] = ProtoField.bool("xferd.hello.flags.owner_names", "OWNER_NAMES (owners mapped by name)", 32, nil, 0x2000)
F["hello.flags.sealed_dest"] = ProtoField.bool("xferd.hello.flags.sealed_dest", "SEALED_DEST (the destination field is in message 1, encrypted)", 32, nil, 0x4000)
F["hello.flags.redo"] = ProtoField.bool("xferd.hello.flags.redo", "REDO", 32, nil, 0x8000)
F["hello.flags.filters"] = ProtoField.bool("xferd.hello.flags.filters", "FILTERS", 32, nil, 0x10000)
F["hello.flags.sealed_opts"] = ProtoField.bool("xferd.hello.flags.sealed_opts", "SEALED_OPTS (the options are in message 1, encrypted)", 32, nil, 0x20000)
F["hello.flags.no_compress"] = ProtoField.bool("xferd.hello.flags.no_compress", "NO_COMPRESS (a pull's --no-compress)", 32, nil, 0x40000)
F["hello.flags.data_end"] = ProtoField.bool("xferd.hello.flags.data_end", "DATA_END (HELLO_ACK: the receiver takes a file's end in its one DATA frame)", 32, nil, 0x80000)
F["hello.cookie"] = ProtoField.bytes("xferd.hello.cookie", "Cookie reply (nonce and sealed cookie)")
uint("hello.flags.reserved", "Reserved HELLO flag bits", ProtoField.uint32, base.HEX, nil, 0xfff00000)
uint("hello.nonce", "Nonce", ProtoField.uint64, base.HEX)
uint("hello.dest_len", "Destination length", ProtoField.uint16, base.DEC)
uint("hello.auth_len", "Handshake length", ProtoField.uint16, base.DEC)
F["hello.dest"] = ProtoField.string("xferd.hello.dest", "Destination")
F["hello.rules"] = ProtoField.string("xferd.hello.rules", "Filter rules (--delete keeps what they exclude)")
-- Noise messages (docs/SECURITY.md 2.1, 2.2, 3).
uint("noise.type", "Noise message", ProtoField.uint8, base.DEC, noise_types)
uint("noise.reserved", "Reserved", ProtoField.uint24, base.HEX)
uint("noise.sender_index", "Sender index", ProtoField.uint32, base.HEX)
uint("noise.receiver_index", "Receiver index", ProtoField.uint32, base.HEX)
F["noise.ephemeral"] = ProtoField.bytes("xferd.noise.ephemeral", "Ephemeral public key")
F["noise.static"] = ProtoField.bytes("xferd.noise.static", "Static public key (encrypted)")
F["noise.timestamp"] = ProtoField.bytes("xferd.noise.timestamp", "TAI64N timestamp (encrypted)")
F["noise.payload"] = ProtoField.bytes("xferd.noise.payload", "TAI64N timestamp and sealed block: options, destination field, padding (encrypted)")
uint("noise.sealed_len", "Sealed block length (options, destination field, padding; encrypted in message 1)", ProtoField.uint16, base.DEC)
F["noise.empty"] = ProtoField.bytes("xferd.noise.empty", "Empty (tag only)")
F["noise.mac1"] = ProtoField.bytes("xferd.noise.mac1", "mac1")
F["noise.mac2"] = ProtoField.bytes("xferd.noise.mac2", "mac2")
F["noise.nonce"] = ProtoField.bytes("xferd.noise.nonce", "Cookie nonce")
F["noise.cookie"] = ProtoField.bytes("xferd.noise.cookie", "Cookie (encrypted)")
-- FLIST (3.2).
uint("flist.first_index", "First index", ProtoField.uint32, base.DEC)
uint("flist.count", "Count", ProtoField.uint16, base.DEC)
uint("flist.flags", "FLIST flags", ProtoField.uint16, base.HEX)
F["flist.flags.last"] = ProtoField.bool("xferd.flist.flags.last", "LAST", 16, nil, 0x1)
F["flist.flags.owner"] = ProtoField.bool("xferd.flist.flags.owner", "OWNER (entries carry uid, gid)", 16, nil, 0x2)
F["flist.flags.giveup"] = ProtoField.bool("xferd.flist.flags.giveup", "GIVEUP (a placeholder of an entry too large for a frame)", 16, nil, 0x4)
uint("flist.flags.reserved", "Reserved FLIST flag bits", ProtoField.uint16, base.HEX, nil, 0xfff8)
-- FLIST name table (6.21).
uint("names.count", "Names", ProtoField.uint16, base.DEC)
uint("name.kind", "Kind", ProtoField.uint8, base.DEC, { [1] = "user", [2] = "group" })
uint("name.len", "Length", ProtoField.uint8, base.DEC)
uint("name.id", "Id (the sender's)", ProtoField.uint32, base.DEC)
F["name.name"] = ProtoField.string("xferd.name.name", "Name")
uint("entry.index", "File index", ProtoField.uint32, base.DEC)
uint("entry.kind", "Kind", ProtoField.uint8, base.DEC, kinds)
uint("entry.reserved", "Reserved", ProtoField.uint8, base.HEX)
uint("entry.path_len", "Path length", ProtoField.uint16, base.DEC)
uint("entry.target_len", "Target length", ProtoField.uint16, base.DEC)
uint("entry.mode", "Mode", ProtoField.uint16, base.OCT)
uint("entry.size", "Size", ProtoField.uint64, base.DEC)
F["entry.mtime_ns"] = ProtoField.int64("xferd.entry.mtime_ns", "mtime (ns since the epoch)", base.DEC)
uint("entry.uid", "Owner (uid; 4294967295: not sent)", ProtoField.uint32, base.DEC)
uint("entry.gid", "Group (gid; 4294967295: not sent)", ProtoField.uint32, base.DEC)
F["entry.path"] = ProtoField.string("xferd.entry.path", "Path")
F["entry.target"] = ProtoField.string("xferd.entry.target", "Target")
uint("entry.xattr_len", "Attribute set length (6.20)", ProtoField.uint16, base.DEC)
F["entry.xattr"] = ProtoField.bytes("xferd.entry.xattr", "Attribute set (CRC-64, count, records)")
-- DECISION (3.3).
uint("decision.count", "Count", ProtoField.uint16, base.DEC)
uint("decision.reserved", "Reserved", ProtoField.uint16, base.HEX)
uint("decision.file", "File", ProtoField.uint32, base.DEC)
uint("decision.decision", "Decision", ProtoField.uint8, base.DEC, decisions)
uint("decision.status", "Status", ProtoField.uint8, base.DEC, file_status)
uint("decision.items", "Items (rsync's itemized changes)", ProtoField.uint16, base.HEX)
F["decision.items.new"] = ProtoField.bool("xferd.decision.items.new", "NEW", 16, nil, 0x1)
F["decision.items.size"] = ProtoField.bool("xferd.decision.items.size", "SIZE", 16, nil, 0x2)
F["decision.items.time"] = ProtoField.bool("xferd.decision.items.time", "TIME", 16, nil, 0x4)
F["decision.items.perms"] = ProtoField.bool("xferd.decision.items.perms", "PERMS", 16, nil, 0x8)
F["decision.items.change"] = ProtoField.bool("xferd.decision.items.change", "CHANGE (symlink target)", 16, nil, 0x10)
F["decision.items.owner"] = ProtoField.bool("xferd.decision.items.owner", "OWNER", 16, nil, 0x20)
F["decision.items.group"] = ProtoField.bool("xferd.decision.items.group", "GROUP", 16, nil, 0x40)
F["decision.items.xattr"] = ProtoField.bool("xferd.decision.items.xattr", "XATTR", 16, nil, 0x80)
F["decision.items.acl"] = ProtoField.bool("xferd.decision.items.acl", "ACL", 16, nil, 0x100)
uint("decision.block_size", "Block size", ProtoField.uint32, base.DEC)
uint("decision.block_count", "Block count", ProtoField.uint32, base.DEC)
-- SIG (3.4).
uint("sig.file", "File", ProtoField.uint32, base.DEC)
uint("sig.block_size", "Block size", ProtoField.uint32, base.DEC)
uint("sig.first_block", "First block", ProtoField.uint32, base.DEC)
uint("sig.count", "Count", ProtoField.uint16, base.DEC)
uint("sig.reserved", "Reserved", ProtoField.uint16, base.HEX)
uint("sig.block", "Block", ProtoField.uint32, base.DEC)
uint("sig.weak", "Weak (rolling)", ProtoField.uint32, base.HEX)
uint("sig.strong", "Strong (CRC-32C)", ProtoField.uint32, base.HEX)
-- DATA (3.5).
uint("data.file", "File", ProtoField.uint32, base.DEC)
uint("data.raw_len", "Raw length (0: plain; else the bytes are DEFLATE, inflating to this)", ProtoField.uint32, base.DEC)
uint("data.offset", "Offset", ProtoField.uint64, base.DEC)
F["data.bytes"] = ProtoField.bytes("xferd.data.bytes", "Data")
uint("data.len", "Data length", ProtoField.uint32, base.DEC)
uint("data.crc64", "CRC-64/XZ of the whole file (END)", ProtoField.uint64, base.HEX)
-- COPY (3.6).
uint("copy.file", "File", ProtoField.uint32, base.DEC)
uint("copy.len", "Length", ProtoField.uint32, base.DEC)
uint("copy.offset", "Offset", ProtoField.uint64, base.DEC)
uint("copy.src_offset", "Basis offset", ProtoField.uint64, base.DEC)
-- FILE_END (3.7).
uint("file_end.file", "File", ProtoField.uint32, base.DEC)
uint("file_end.status", "Status", ProtoField.uint16, base.DEC, file_status)
uint("file_end.reserved", "Reserved", ProtoField.uint16, base.HEX)
uint("file_end.size", "Size", ProtoField.uint64, base.DEC)
uint("file_end.crc64", "CRC-64/XZ", ProtoField.uint64, base.HEX)
-- COMMIT (3.8).
uint("commit.committed", "Committed through", ProtoField.uint32, base.DEC)
uint("commit.credit", "Credit", ProtoField.uint32, base.DEC)
uint("commit.count", "Failures", ProtoField.uint16, base.DEC)
uint("commit.seq", "COMMIT sequence number", ProtoField.uint16, base.DEC)
uint("commit.file", "Failed file", ProtoField.uint32, base.DEC)
uint("commit.status", "Status", ProtoField.uint16, base.DEC, file_status)
uint("commit.rec_reserved", "Reserved", ProtoField.uint16, base.HEX)
-- ACK (3.9).
uint("ack.largest", "Largest", ProtoField.uint64, base.DEC)
uint("ack.delay_us", "ACK delay (us)", ProtoField.uint32, base.DEC)
uint("ack.count", "Ranges", ProtoField.uint16, base.DEC)
uint("ack.reserved", "Reserved", ProtoField.uint16, base.HEX)
uint("ack.first", "First", ProtoField.uint64, base.DEC)
uint("ack.last", "Last", ProtoField.uint64, base.DEC)
-- DONE (3.10).
uint("done.files", "Files", ProtoField.uint32, base.DEC)
uint("done.status", "Status", ProtoField.uint32, base.DEC, abort_codes)
uint("done.deleted", "Deleted", ProtoField.uint32, base.DEC)
uint("done.kept", "Kept", ProtoField.uint32, base.DEC)
uint("done.del_status", "Deletion status", ProtoField.uint16, base.DEC, del_status)
uint("done.reserved", "Reserved", ProtoField.uint16, base.HEX)
-- ABORT (3.11).
uint("abort.code", "Code", ProtoField.uint16, base.DEC, abort_codes)
uint("abort.msg_len", "Message length", ProtoField.uint16, base.DEC)
F["abort.msg"] = ProtoField.string("xferd.abort.msg", "Message")

local fields = {}
for _, f in pairs(F) do
	fields[#fields + 1] = f
end
xf.fields = fields

local ef_malformed = ProtoExpert.new("xferd.malformed", "Malformed xferd frame",
	expert.group.MALFORMED, expert.severity.ERROR)
local ef_unknown_session = ProtoExpert.new("xferd.unknown_session",
	"HELLO of this session not captured: sealing guessed", expert.group.ASSUMPTION,
	expert.severity.NOTE)
xf.experts = { ef_malformed, ef_unknown_session }

xf.prefs.unknown_sessions = Pref.enum("Frames of sessions whose HELLO was not captured",
	0, "auto: sealed if a key bit is set or the frame does not decode in clear", {
		{ 1, "auto", 0 }, { 2, "sealed", 1 }, { 3, "clear", 2 },
	}, true)

-- session id -> true (AEAD) / false (clear), learnt from HELLOs.
local sessions = {}
function xf.init()
	sessions = {}
end

-- A cursor over the payload. In check mode (tree nil) it only validates; the first
-- rule broken is kept in c.err (the codec's reason and what broke it).
local Cur = {}
Cur.__index = Cur

local function cursor(tvb, off, len, tree)
	return setmetatable({ tvb = tvb, base = off, off = off, stop = off + len, tree = tree },
		Cur)
end

function Cur:fail(reason, what)
	if not self.err then
		self.err = reason .. ": " .. what
	end
	return false
end

function Cur:left()
	return self.stop - self.off
end

function Cur:need(n, what)
	if self:left() < n then
		return self:fail("truncated", what)
	end
	return true
end

-- Read n bytes as field key (added to t, or the cursor's tree); returns the value.
function Cur:take(key, n, t, kind)
	local r = self.tvb:range(self.off, n)
	self.off = self.off + n
	local v
	if kind == "bytes" then
		v = nil
	elseif kind == "str" then
		v = r:string()
	elseif n == 8 then
		v = r:uint64()
	else
		v = r:uint()
	end
	t = t or self.tree
	if t and key then
		if kind == "str" then
			t:add(F[key], r, v)
		else
			t:add(F[key], r)
		end
	end
	return v, r
end

function Cur:subtree(label, n)
	if not self.tree then
		return nil
	end
	return self.tree:add(xf, self.tvb:range(self.off, n), label)
end

local U64_MAX_OFF = UInt64(0xffffffff, 0x7fffffff) -- 2^63 - 1

local function no_overflow(a, b)
	-- a + b <= 2^63 - 1 with a, b UInt64 (b small).
	return a <= U64_MAX_OFF and (U64_MAX_OFF - a) >= b
end

local function reserved0(c, v, what)
	if v ~= 0 then
		return c:fail("reserved", what .. " not zero")
	end
	return true
end


local function noise_msg(c, n, is_hello)
	local t = c:subtree(is_hello and "Noise message 1 (initiation)" or
		"Noise message 2 (response)", n)
	if is_hello then
		c:take("noise.type", 1, t)
		c:take("noise.reserved", 3, t)
		c:take("noise.sender_index", 4, t)
		c:take("noise.ephemeral", 32, t, "bytes")
		c:take("noise.static", 48, t, "bytes")
		-- One AEAD: the timestamp, then the sealed block (SEALED_OPTS, SEALED_DEST: the
		-- HELLO's options, its destination field, zero padding to the block's one size,
		-- 1256 bytes from MTU 1500 up), then the tag; nothing of it is readable here, not
		-- even the field's length: sealed_len is the same for every HELLO of a sender.
		if n > 148 then
			if t then
				t:add(F["noise.sealed_len"], n - 148):set_generated()
			end
			c:take("noise.payload", 28 + n - 148, t, "bytes")
		else
			c:take("noise.timestamp", 28, t, "bytes")
		end
		c:take("noise.mac1", 16, t, "bytes")
		c:take("noise.mac2", 16, t, "bytes")
	else
		c:take("noise.type", 1, t)
		c:take("noise.reserved", 3, t)
		c:take("noise.sender_index", 4, t)
		c:take("noise.receiver_index", 4, t)
		c:take("noise.ephemeral", 32, t, "bytes")
		c:take("noise.empty", 16, t, "bytes")
		c:take("noise.mac1", 16, t, "bytes")
	end
end

local body = {}

body[1] = function(c, ack)
	if not c:need(28, "HELLO fields") then
		return
	end
	local minv = c:take("hello.min_version", 2)
	local maxv = c:take("hello.max_version", 2)
	local maxp = c:take("hello.max_payload", 2)
	local status = c:take("hello.status", 2)
	local window = c:take("hello.window", 4)
	local fr = c.tvb:range(c.off, 4)
	local flags = c:take(nil, 4)
	if c.tree then
		local ft = c.tree:add(F["hello.flags"], fr)
		ft:add(F["hello.flags.checksum"], fr)
		ft:add(F["hello.flags.aead"], fr)
		ft:add(F["hello.flags.delete"], fr)
		ft:add(F["hello.flags.volume"], fr)
		ft:add(F["hello.flags.cookie"], fr)
		ft:add(F["hello.flags.dryrun"], fr)
		ft:add(F["hello.flags.itemize"], fr)
		ft:add(F["hello.flags.hardlinks"], fr)
		ft:add(F["hello.flags.compress"], fr)
		ft:add(F["hello.flags.owner"], fr)
		ft:add(F["hello.flags.xattrs"], fr)
		ft:add(F["hello.flags.acls"], fr)
		ft:add(F["hello.flags.pull"], fr)
		ft:add(F["hello.flags.owner_names"], fr)
		ft:add(F["hello.flags.sealed_dest"], fr)
		ft:add(F["hello.flags.redo"], fr)
		ft:add(F["hello.flags.filters"], fr)
		ft:add(F["hello.flags.sealed_opts"], fr)
		ft:add(F["hello.flags.no_compress"], fr)
		ft:add(F["hello.flags.data_end"], fr)
		ft:add(F["hello.flags.reserved"], fr)
	end
	c:take("hello.nonce", 8)
	local dest_len = c:take("hello.dest_len", 2)
	local auth_len = c:take("hello.auth_len", 2)
	local aead = bit.band(flags, 0x2) ~= 0
	c.aead = aead
	if not c:need(dest_len, "destination") then
		return
	end
	-- With FILTERS the field is the destination, a NUL and the rules (docs/PROTOCOL.md 6.12);
	-- with SEALED_DEST it is in message 1's payload, not here.
	local nul = nil
	if bit.band(flags, 0x10000) ~= 0 and bit.band(flags, 0x4000) == 0 then
		for i = 0, dest_len - 1 do
			if c.tvb(c.off + i, 1):uint() == 0 then
				nul = i
				break
			end
		end
		if nul == nil then
			c:fail("field", "FILTERS without the NUL before the rules")
		end
	end
	if nul ~= nil then
		if nul > 0 then
			c:take("hello.dest", nul, nil, "str")
		end
		c.off = c.off + 1
		if dest_len - nul - 1 > 0 then
			c:take("hello.rules", dest_len - nul - 1, nil, "str")
		end
	elseif dest_len > 0 then
		c:take("hello.dest", dest_len, nil, "str")
	end
	if not c:need(auth_len, "handshake message") then
		return
	end
	-- A responder under load answers with a cookie reply: a HELLO_ACK with COOKIE alone,
	-- window 0, and 52 bytes of cookie (docs/PROTOCOL.md 3.1, docs/SECURITY.md 3).
	local cookie = ack and flags == 0x10
	local sealed = bit.band(flags, 0x4000) ~= 0
	local want = 0
	if cookie then
		want = 52
	elseif aead and not ack then
		-- Message 1 and, in its payload, the destination field (docs/PROTOCOL.md 3.1).
		want = auth_len
		if auth_len < 148 or auth_len > 148 + 4095 then
			c:fail("field", "auth_len " .. auth_len .. " (expected 148 to 4243)")
			want = -1 -- said: no second error, and the bytes are skipped
		end
		if not sealed then
			c:fail("field", "AEAD without SEALED_DEST: a destination in clear")
		elseif dest_len ~= 0 then
			c:fail("field", "SEALED_DEST with dest_len " .. dest_len)
		elseif bit.band(flags, 0x20000) == 0 then
			c:fail("field", "AEAD without SEALED_OPTS: options in clear")
		elseif flags ~= 0x24002 or window ~= 0 then
			-- Only AEAD, SEALED_DEST and SEALED_OPTS show (docs/SECURITY.md 2.5).
			c:fail("field", "an option in clear beside SEALED_OPTS")
		end
	elseif aead then
		want = 76
	end
	if not aead and not ack and bit.band(flags, 0x24000) ~= 0 then
		c:fail("field", "SEALED_DEST or SEALED_OPTS without AEAD")
	end
	if auth_len ~= want and want >= 0 then
		c:fail("field", "auth_len " .. auth_len .. " (expected " .. want .. ")")
	end
	if auth_len > 0 then
		if cookie and auth_len == want then
			c:take("hello.cookie", auth_len, nil, "bytes")
		elseif auth_len == want then
			noise_msg(c, auth_len, not ack)
		else
			c.off = c.off + auth_len
		end
	end
	if not ack then
		reserved0(c, status, "status")
		if bit.band(flags, 0x4) == 0 then
			reserved0(c, window, "window without DELETE")
		end
		reserved0(c, bit.band(flags, 0xfff80010), "flag bits 4 and 19..31")
		if bit.band(flags, 0x40000) ~= 0 and bit.band(flags, 0x1100) ~= 0x1000 then
			c:fail("field", "NO_COMPRESS without PULL, or with COMPRESS")
		end
		if bit.band(flags, 0x2000) ~= 0 and bit.band(flags, 0x200) == 0 then
			c:fail("field", "OWNER_NAMES without OWNER")
		end
		if minv == 0 or minv > maxv then
			c:fail("field", "versions " .. minv .. ".." .. maxv)
		end
		if dest_len > 4095 then
			c:fail("field", "dest_len " .. dest_len)
		end
	else
		reserved0(c, dest_len, "dest_len")
		if not cookie then
			-- Bit 8, COMPRESS: the receiver's volume asks (docs/PROTOCOL.md 6.16);
			-- bit 19, DATA_END: it takes a file's end in its one DATA frame (6.9).
			reserved0(c, bit.band(flags, 0xfff7fefc), "flag bits 2..7, 9..18 and 20..31")
			if bit.band(flags, 0x80100) ~= 0 and status ~= 0 then
				c:fail("field", "COMPRESS or DATA_END in a refusal")
			end
		end
		if status > 7 then
			c:fail("field", "status " .. status)
		elseif status == 0 and window == 0 and not cookie then
			c:fail("field", "accepted with window 0")
		end
	end
	if maxp < 512 or maxp > PAYLOAD_MAX then
		c:fail("field", "max_payload " .. maxp)
	end
end

body[2] = function(c)
	body[1](c, true)
end

-- The name table after an FLIST's entries (header flag NAMES, docs/PROTOCOL.md 6.21);
-- the decoder's checks but "an id the entries carry", which needs the entries' ids.
local function names_table(c, owner)
	if not owner then
		c:fail("name_id", "a name table in an FLIST without owners")
		return
	end
	if not c:need(2, "name table count") then
		return
	end
	local n = c:take("names.count", 2)
	if n == 0 or n > 512 then
		c:fail("count", "name table count " .. n)
	end
	local prev = -1
	for i = 0, n - 1 do
		if not c:need(6, "name " .. i) then
			return
		end
		local kind = c.tvb:range(c.off, 1):uint()
		local len = c.tvb:range(c.off + 1, 1):uint()
		local id = c.tvb:range(c.off + 2, 4):uint()
		if not c:need(6 + len, "name " .. i .. " bytes") then
			return
		end
		local name = c.tvb:range(c.off + 6, len):string()
		local t = c:subtree(string.format("Name: %s %u = %s", kind == 2 and "group" or "user",
			id, name), 6 + len)
		c:take("name.kind", 1, t)
		c:take("name.len", 1, t)
		c:take("name.id", 4, t)
		c:take("name.name", len, t, "str")
		local refused = false
		for j = 0, len - 1 do
			local b = c.tvb:range(c.off - len + j, 1):uint()
			refused = refused or b <= 32 or b == 127 or b == 47 or b == 58
		end
		if len == 0 or len > 64 or refused then
			c:fail("name", "name " .. i .. " empty, over 64 bytes or with a refused byte")
		end
		local key = kind * 4294967296 + id
		if (kind ~= 1 and kind ~= 2) or id == 0xffffffff or key <= prev then
			c:fail("name_id", "name " .. i .. ": kind, id or order")
		end
		prev = key
	end
end

body[3] = function(c)
	if not c:need(8, "FLIST fields") then
		return
	end
	local first = c:take("flist.first_index", 4)
	local count = c:take("flist.count", 2)
	local fr = c.tvb:range(c.off, 2)
	local flags = c:take(nil, 2)
	if c.tree then
		local ft = c.tree:add(F["flist.flags"], fr)
		ft:add(F["flist.flags.last"], fr)
		ft:add(F["flist.flags.owner"], fr)
		ft:add(F["flist.flags.giveup"], fr)
		ft:add(F["flist.flags.reserved"], fr)
	end
	reserved0(c, bit.band(flags, 0xfff8), "FLIST flag bits 3..15")
	local owner = bit.band(flags, 2) ~= 0
	local fixed = owner and 32 or 24
	-- XF_HDR_F_XATTR in the frame header (at offset 4 of the frame): each entry ends with
	-- a 16-bit length and its attribute set (6.20).
	local xattr = bit.band(c.tvb:range(c.base - 20, 2):uint(), 0x40) ~= 0
	-- XF_FLIST_F_GIVEUP: one placeholder entry, regular, size 0, no set (6.23).
	local giveup = bit.band(flags, 4) ~= 0
	if count > 256 or (count == 0 and bit.band(flags, 1) == 0) then
		c:fail("count", "FLIST count " .. count)
	end
	if giveup and count ~= 1 then
		c:fail("field", "placeholder FLIST of " .. count .. " entries")
	end
	if first + count > 0xffffffff then
		c:fail("range", "first_index + count past 2^32-1")
	end
	for i = 0, count - 1 do
		if not c:need(fixed, "entry " .. i) then
			return
		end
		local plen = c.tvb:range(c.off + 2, 2):uint()
		local tlen = c.tvb:range(c.off + 4, 2):uint()
		local n = fixed + plen + tlen
		if not c:need(n, "path or target of entry " .. i) then
			return
		end
		local xlen = 0
		if xattr then
			if not c:need(n + 2, "attribute set length of entry " .. i) then
				return
			end
			xlen = c.tvb:range(c.off + n, 2):uint()
			n = n + 2 + xlen
			if not c:need(n, "attribute set of entry " .. i) then
				return
			end
		end
		local t = c:subtree(string.format("Entry %u: %s", first + i,
			c.tvb:range(c.off + fixed, plen):string()), n)
		if t then
			t:add(F["entry.index"], first + i):set_generated()
		end
		local kind = c:take("entry.kind", 1, t)
		local res = c:take("entry.reserved", 1, t)
		c:take("entry.path_len", 2, t)
		c:take("entry.target_len", 2, t)
		local mode = c:take("entry.mode", 2, t)
		local size = c:take("entry.size", 8, t)
		c:take("entry.mtime_ns", 8, t)
		if owner then
			c:take("entry.uid", 4, t)
			c:take("entry.gid", 4, t)
		end
		c:take("entry.path", plen, t, "str")
		if tlen > 0 then
			c:take("entry.target", tlen, t, "str")
		end
		if xattr then
			c:take("entry.xattr_len", 2, t)
			if xlen > 0 then
				c:take("entry.xattr", xlen, t, "bytes")
			end
		end
		reserved0(c, res, "entry byte 1")
		if kind < 1 or kind > 4 then
			c:fail("field", "kind " .. kind)
		end
		if mode > 4095 then
			c:fail("field", string.format("mode %o", mode))
		end
		if plen == 0 or plen > 4095 then
			c:fail("field", "path_len " .. plen)
		end
		if size > U64_MAX_OFF then
			c:fail("field", "size above 2^63-1")
		end
		if kind == 2 and size ~= UInt64(0) then
			c:fail("field", "directory size not 0")
		end
		if giveup and (kind ~= 1 or size ~= UInt64(0) or xlen ~= 0) then
			c:fail("field", "placeholder not a regular file of size 0 without a set")
		end
		if kind == 3 or kind == 4 then
			if tlen == 0 or size ~= UInt64(tlen) then
				c:fail("field", kinds[kind] .. " target_len " .. tlen)
			end
		elseif tlen ~= 0 then
			c:fail("field", "target_len on a regular file or directory")
		end
	end
	if bit.band(c.hflags or 0, 0x80) ~= 0 then
		names_table(c, owner)
	end
end

-- Fixed-size records: n records of size sz, each read by rec(c, t, i).
local function records(c, n, sz, label, rec)
	if not c:need(n * sz, label .. " records") then
		return false
	end
	for i = 0, n - 1 do
		rec(c, c:subtree(string.format("%s %u", label, i), sz), i)
	end
	return true
end

body[4] = function(c)
	if not c:need(4, "DECISION fields") then
		return
	end
	local count = c:take("decision.count", 2)
	reserved0(c, c:take("decision.reserved", 2), "DECISION reserved")
	if count == 0 or count > 559 then
		c:fail("count", "DECISION count " .. count)
	end
	records(c, count, 16, "Decision", function(c, t)
		c:take("decision.file", 4, t)
		local d = c:take("decision.decision", 1, t)
		local st = c:take("decision.status", 1, t)
		local ir = c.tvb:range(c.off, 2)
		local items = c:take("decision.items", 2, t)
		if t then
			for _, k in ipairs({ "new", "size", "time", "perms", "change", "owner", "group",
			                     "xattr", "acl" }) do
				t:add(F["decision.items." .. k], ir)
			end
		end
		reserved0(c, bit.band(items, 0xfe00), "items bits 9..15")
		local bs = c:take("decision.block_size", 4, t)
		local bc = c:take("decision.block_count", 4, t)
		if d < 1 or d > 4 then
			c:fail("field", "decision " .. d)
		elseif (d == 4 and not failure_status(st)) or (d == 2 and st ~= 0 and st ~= 10) or
			(d ~= 2 and d ~= 4 and st ~= 0) then
			c:fail("field", "status " .. st .. " with decision " .. d)
		elseif (d == 4 and items ~= 0) or (bit.band(items, 1) ~= 0 and items ~= 1) then
			c:fail("field", "items " .. items .. " with decision " .. d)
		elseif d == 3 and (bs < 1 or bs > 131072 or bc == 0) then
			c:fail("field", "DELTA block fields")
		elseif d ~= 3 and (bs ~= 0 or bc ~= 0) then
			c:fail("field", "block fields without DELTA")
		end
	end)
end

body[5] = function(c)
	if not c:need(16, "SIG fields") then
		return
	end
	c:take("sig.file", 4)
	local bs = c:take("sig.block_size", 4)
	local first = c:take("sig.first_block", 4)
	local count = c:take("sig.count", 2)
	reserved0(c, c:take("sig.reserved", 2), "SIG reserved")
	if count == 0 or count > 1116 then
		c:fail("count", "SIG count " .. count)
	end
	if bs < 1 or bs > 131072 then
		c:fail("field", "block_size " .. bs)
	end
	if first + count > 4294967296 then
		c:fail("range", "first_block + count past 2^32")
	end
	records(c, count, 8, "Signature", function(c, t, i)
		if t then
			t:add(F["sig.block"], first + i):set_generated()
		end
		c:take("sig.weak", 4, t)
		c:take("sig.strong", 4, t)
	end)
end

body[6] = function(c)
	if not c:need(16, "DATA fields") then
		return
	end
	-- END (docs/PROTOCOL.md 3.5, 6.9): the file's one frame, its CRC-64 after the bytes.
	local crc_len = bit.band(c.hflags or 0, 0x100) ~= 0 and 8 or 0
	c:take("data.file", 4)
	-- raw_len (docs/PROTOCOL.md 3.5, 6.16): the frame writes raw_len bytes once inflated.
	local raw_len = c:take("data.raw_len", 4)
	local off = c:take("data.offset", 8)
	if c:left() < crc_len then
		return c:fail("truncated", "DATA with END shorter than its CRC-64")
	end
	local n = c:left() - crc_len
	if n == 0 then
		return c:fail("count", "DATA with no bytes")
	end
	if c.tree then
		c.tree:add(F["data.len"], n):set_generated()
	end
	c:take("data.bytes", n, nil, "bytes")
	if crc_len ~= 0 then
		c:take("data.crc64", 8)
	end
	if raw_len > 8932 then
		return c:fail("field", "raw_len " .. raw_len .. " past 8932")
	end
	if crc_len ~= 0 and off ~= UInt64(0) then
		return c:fail("field", "DATA with END at offset " .. tostring(off))
	end
	if not no_overflow(off, UInt64(raw_len ~= 0 and raw_len or n)) then
		c:fail("range", "offset + length past 2^63-1")
	end
end

body[7] = function(c)
	if not c:need(24, "COPY fields") then
		return
	end
	c:take("copy.file", 4)
	local n = c:take("copy.len", 4)
	local off = c:take("copy.offset", 8)
	local src = c:take("copy.src_offset", 8)
	if n == 0 then
		return c:fail("field", "COPY len 0")
	end
	if not no_overflow(off, UInt64(n)) or not no_overflow(src, UInt64(n)) then
		c:fail("range", "offset + len past 2^63-1")
	end
end

body[8] = function(c)
	if not c:need(24, "FILE_END fields") then
		return
	end
	c:take("file_end.file", 4)
	local st = c:take("file_end.status", 2)
	reserved0(c, c:take("file_end.reserved", 2), "FILE_END reserved")
	local size = c:take("file_end.size", 8)
	c:take("file_end.crc64", 8)
	if st ~= 0 and not failure_status(st) then
		c:fail("field", "status " .. st)
	end
	if size > U64_MAX_OFF then
		c:fail("field", "size above 2^63-1")
	end
end

body[9] = function(c)
	if not c:need(12, "COMMIT fields") then
		return
	end
	local committed = c:take("commit.committed", 4)
	local credit = c:take("commit.credit", 4)
	local count = c:take("commit.count", 2)
	c:take("commit.seq", 2) -- any value: numbered from 0, mod 2^16
	if count > 1117 then
		c:fail("count", "COMMIT count " .. count)
	end
	if credit < committed then
		c:fail("range", "credit below committed")
	end
	local prev = -1
	records(c, count, 8, "Failure", function(c, t)
		local f = c:take("commit.file", 4, t)
		local st = c:take("commit.status", 2, t)
		reserved0(c, c:take("commit.rec_reserved", 2, t), "record reserved")
		if not failure_status(st) then
			c:fail("field", "failure status " .. st)
		end
		if f >= committed or f <= prev then
			c:fail("range", "failure file " .. f)
		end
		prev = f
	end)
end

body[10] = function(c)
	if not c:need(16, "ACK fields") then
		return
	end
	local largest = c:take("ack.largest", 8)
	c:take("ack.delay_us", 4)
	local count = c:take("ack.count", 2)
	reserved0(c, c:take("ack.reserved", 2), "ACK reserved")
	if count == 0 or count > 64 then
		c:fail("count", "ACK count " .. count)
	end
	local prev_first
	records(c, count, 16, "Range", function(c, t, i)
		local first = c:take("ack.first", 8, t)
		local last = c:take("ack.last", 8, t)
		if t then
			t:append_text(": " .. tostring(first) .. ".." .. tostring(last))
		end
		if first > last then
			c:fail("range", "first > last")
		end
		if i == 0 and last ~= largest then
			c:fail("range", "largest is not the first range's last")
		end
		if prev_first and not (last + 1 < prev_first) then
			c:fail("range", "ranges not descending with a gap")
		end
		prev_first = first
	end)
end

body[11] = function(c)
	local n = c:left()
	if n < 8 then
		return c:need(8, "DONE fields")
	end
	c:take("done.files", 4)
	local st = c:take("done.status", 4)
	if st > 7 then
		c:fail("field", "status " .. st)
	end
	if n >= 20 then
		c:take("done.deleted", 4)
		c:take("done.kept", 4)
		local ds = c:take("done.del_status", 2)
		reserved0(c, c:take("done.reserved", 2), "DONE reserved")
		if ds > 3 then
			c:fail("field", "del_status " .. ds)
		end
	end
end

body[12] = function(c)
	if not c:need(4, "ABORT fields") then
		return
	end
	local code = c:take("abort.code", 2)
	local n = c:take("abort.msg_len", 2)
	if not c:need(n, "message") then
		return
	end
	local msg = n > 0 and c:take("abort.msg", n, nil, "str") or ""
	if code < 1 or code > 7 then
		c:fail("field", "code " .. code)
	end
	if n > 256 or msg:find("[^\32-\126]") then
		c:fail("field", "message not printable ASCII of <= 256 bytes")
	end
end

body[13] = function(c) end

-- Dissect (or, without a tree, check) a payload in clear. Returns the cursor.
local function clear_payload(tvb, typ, off, len, tree, hflags)
	local c = cursor(tvb, off, len, tree)
	c.hflags = hflags or 0
	body[typ](c)
	if not c.err and c:left() > 0 then
		c:fail("trailing", c:left() .. " bytes after the last field")
	end
	return c
end

local function info_of(typ, tvb, off, len, sealed)
	local name = types[typ] or ("type " .. typ)
	if sealed then
		return name .. " (sealed)"
	end
	local function u(o, n)
		if len < o + n then
			return "?"
		end
		return tostring(tvb:range(off + o, n):uint())
	end
	if typ == 3 then
		return string.format("FLIST first=%s count=%s", u(0, 4), u(4, 2))
	elseif typ == 6 then
		local o = len >= 16 and tostring(tvb:range(off + 8, 8):uint64()) or "?"
		local raw = len >= 16 and tvb:range(off + 4, 4):uint() or 0
		local fin = bit.band(tvb(4, 2):uint(), 0x100) ~= 0
		local n = len - 16 - (fin and 8 or 0)
		local tail = fin and " END" or ""
		if raw ~= 0 then
			return string.format("DATA file=%s offset=%s len=%d raw_len=%d%s", u(0, 4), o,
			                     n, raw, tail)
		end
		return string.format("DATA file=%s offset=%s len=%d%s", u(0, 4), o, n, tail)
	elseif typ == 9 then
		return string.format("COMMIT committed=%s credit=%s seq=%s", u(0, 4), u(4, 4), u(10, 2))
	end
	return name
end

function xf.dissector(tvb, pinfo, tree)
	local dlen = tvb:len()
	if dlen < HDR_LEN then
		return 0
	end
	pinfo.cols.protocol = "xferd"
	local root = tree:add(xf, tvb(), "xferd")
	local typ = tvb(3, 1):uint()
	local flags = tvb(4, 2):uint()
	local plen = tvb(6, 2):uint()
	local session = tvb(8, 4):uint()
	root:add(F["magic"], tvb(0, 2))
	root:add(F["version"], tvb(2, 1))
	root:add(F["type"], tvb(3, 1))
	local ft = root:add(F["flags"], tvb(4, 2))
	for _, k in ipairs({ "noack", "reply", "acknow", "key_phase", "key_epoch", "redo", "xattr", "names", "end", "reserved" }) do
		ft:add(F["flags." .. k], tvb(4, 2))
	end
	root:add(F["len"], tvb(6, 2))
	root:add(F["session"], tvb(8, 4))
	root:add(F["reserved"], tvb(12, 4))
	root:add(F["pn"], tvb(16, 8))
	root:append_text(string.format(", %s, session 0x%08x, pn %s", types[typ] or "?", session,
		tostring(tvb(16, 8):uint64())))

	local function bad(what)
		root:add_proto_expert_info(ef_malformed, what)
		pinfo.cols.info = "[Malformed] " .. (types[typ] or "?")
	end
	if tvb(0, 2):uint() ~= MAGIC then
		bad("magic: not 0x5846")
		return dlen
	end
	if tvb(2, 1):uint() ~= 2 then
		bad("version: not 2")
		return dlen
	end
	if not types[typ] then
		bad("type: " .. typ)
		return dlen
	end
	if dlen > PAYLOAD_MAX or plen ~= dlen - HDR_LEN then
		bad(string.format("length: header says %d payload bytes, datagram has %d", plen,
			dlen - HDR_LEN))
		return dlen
	end
	if tvb(12, 4):uint() ~= 0 or bit.band(flags, 0xfe00) ~= 0 then
		bad("reserved: header reserved word or flag bits 9..15")
	end
	if bit.band(flags, 0xc0) ~= 0 and typ ~= 3 then
		bad("reserved: header flag XATTR or NAMES on another frame than FLIST")
	end
	if bit.band(flags, 0x100) ~= 0 and typ ~= 6 then
		bad("reserved: header flag END on another frame than DATA")
	end
	if session == 0 then
		bad("field: session 0")
	end

	-- Sealed or in clear?
	local key_bits = bit.band(flags, 0x18) ~= 0
	local sealed
	if typ == 1 then
		sealed = false
	else
		local known = sessions[session]
		if typ == 2 and plen >= 28 then
			-- The HELLO_ACK says itself (its echoed AEAD flag).
			known = bit.band(tvb(24 + 12, 4):uint(), 0x2) ~= 0
		end
		if known == nil then
			local pref = xf.prefs.unknown_sessions
			if pref == 1 then
				sealed = true
			elseif pref == 2 then
				sealed = false
			else
				sealed = key_bits or
					clear_payload(tvb, typ, HDR_LEN, plen, nil, flags).err ~= nil
			end
			root:add_proto_expert_info(ef_unknown_session)
		else
			sealed = known
		end
	end

	if sealed and typ ~= 2 then
		root:add(F["sealed"], true):set_generated()
		if plen < TAG_LEN then
			bad("truncated: sealed frame shorter than its tag")
			return dlen
		end
		local n = plen - TAG_LEN
		if n > 0 then
			root:add(F["encrypted"], tvb(HDR_LEN, n))
		end
		root:add(F["encrypted_len"], n):set_generated()
		-- The header is in clear: a DATA frame's END says its CRC-64 is among the bytes.
		local crc_len = bit.band(flags, 0x100) ~= 0 and 8 or 0
		if typ == 6 and n > 16 + crc_len then
			root:add(F["data.len"], n - 16 - crc_len):set_generated()
		end
		root:add(F["tag"], tvb(HDR_LEN + n, TAG_LEN))
		pinfo.cols.info = info_of(typ, tvb, HDR_LEN, n, true)
		return dlen
	end

	local n = plen
	if sealed then
		-- HELLO_ACK under AEAD: authenticated in clear, the tag after the payload.
		root:add(F["sealed"], true):set_generated()
		if plen < TAG_LEN then
			bad("truncated: sealed frame shorter than its tag")
			return dlen
		end
		n = plen - TAG_LEN
	end
	local c = clear_payload(tvb, typ, HDR_LEN, n, root, flags)
	if sealed then
		root:add(F["tag"], tvb(HDR_LEN + n, TAG_LEN))
	end
	if typ == 1 and not c.err then
		sessions[session] = c.aead
	end
	pinfo.cols.info = info_of(typ, tvb, HDR_LEN, n, false)
	if c.err then
		bad(c.err)
	end
	return dlen
end

-- The heuristic: magic, version 2, a known type, and the header's length equal to the
-- datagram's.
local function heuristic(tvb, pinfo, tree)
	local n = tvb:len()
	if n < HDR_LEN or n > PAYLOAD_MAX then
		return false
	end
	if tvb(0, 2):uint() ~= MAGIC or tvb(2, 1):uint() ~= 2 then
		return false
	end
	local typ = tvb(3, 1):uint()
	if not types[typ] or tvb(6, 2):uint() ~= n - HDR_LEN then
		return false
	end
	xf.dissector(tvb, pinfo, tree)
	return true
end

DissectorTable.get("udp.port"):add(7010, xf)
xf:register_heuristic("udp", heuristic)
