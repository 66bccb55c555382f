package htpasswd

// Traditional DES-based crypt(3), the format `htpasswd -d` writes: two salt
// characters followed by eleven characters of hash, all from cryptAlphabet.
//
// The algorithm (Unix V7, 1979): the password's first 8 bytes, 7 bits each,
// form a DES key; a zero block is encrypted 25 times with a DES variant whose
// E expansion is perturbed by the 12-bit salt; the 64-bit result is printed in
// 6-bit groups. The standard library's crypto/des cannot be reused because the
// salt changes the inside of the round function. Speed does not matter here
// (400 DES rounds per check), so this is a plain bit-permutation version,
// written for clarity; des_crypt_test.go checks it against crypto/des and
// against vectors from the system crypt(3).
//
// DES crypt is weak: use it only to read old files.

// cryptAlphabet maps 6-bit values to characters in DES crypt and
// bcrypt/SHA-crypt output (not the order of standard base64).
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// desHashLen is the length of a traditional DES crypt hash.
const desHashLen = 13

// isDESHash reports whether h looks like a traditional DES crypt hash.
func isDESHash(h string) bool {
	if len(h) != desHashLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		if cryptIndex(h[i]) < 0 {
			return false
		}
	}
	return true
}

// cryptIndex returns the 6-bit value of c in cryptAlphabet, or -1.
func cryptIndex(c byte) int {
	switch {
	case c == '.' || c == '/':
		return int(c - '.')
	case c >= '0' && c <= '9':
		return int(c-'0') + 2
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 12
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 38
	}
	return -1
}

// desCrypt returns crypt(password, salt) for a traditional DES salt, the
// first two characters of setting. It returns "" if setting does not start
// with two valid salt characters, so the result never equals a stored hash.
func desCrypt(password, setting string) string {
	if len(setting) < 2 || cryptIndex(setting[0]) < 0 || cryptIndex(setting[1]) < 0 {
		return ""
	}
	salt := uint32(cryptIndex(setting[0])) | uint32(cryptIndex(setting[1]))<<6
	ks := desSubkeys(desCryptKey(password))
	mask := saltMask(salt)
	var block uint64
	for range 25 {
		block = desEncrypt(block, &ks, mask)
	}
	return setting[:2] + encodeDESBlock(block)
}

// desCryptKey builds the DES key from the first 8 password bytes: each byte
// shifted left by one, so its low 7 bits count and the parity bit is 0.
func desCryptKey(password string) uint64 {
	var key uint64
	for i := 0; i < 8 && i < len(password); i++ {
		key |= uint64(password[i]<<1) << (56 - 8*i)
	}
	return key
}

// saltMask turns the 12-bit salt into the mask of E-expansion bits to swap:
// salt bit i (least significant first) swaps expansion bits i and i+24,
// counted from the most significant of the 48.
func saltMask(salt uint32) uint32 {
	var mask uint32
	for i := range 12 {
		if salt>>i&1 == 1 {
			mask |= 1 << (23 - i)
		}
	}
	return mask
}

// encodeDESBlock prints 64 bits, padded with two zero bits to 66, as eleven
// characters of 6 bits each, most significant first.
func encodeDESBlock(block uint64) string {
	out := make([]byte, 11)
	for i := range 10 {
		out[i] = cryptAlphabet[block>>(58-6*i)&0x3f]
	}
	out[10] = cryptAlphabet[block<<2&0x3f]
	return string(out)
}

// desEncrypt encrypts one block with the key schedule ks, swapping the
// expansion bits selected by saltMask in every round. With a zero mask it is
// plain DES.
func desEncrypt(block uint64, ks *[16]uint64, saltMask uint32) uint64 {
	b := permute(block, 64, desIP[:])
	l, r := uint32(b>>32), uint32(b)
	for i := range 16 {
		l, r = r, l^desF(r, ks[i], saltMask)
	}
	return permute(uint64(r)<<32|uint64(l), 64, desFP[:])
}

// desF is the DES round function with the salt perturbation applied to the
// 48-bit expansion before the subkey is mixed in.
func desF(r uint32, subkey uint64, saltMask uint32) uint32 {
	e := permute(uint64(r), 32, desE[:])
	hi, lo := uint32(e>>24), uint32(e&0xffffff)
	swap := (hi ^ lo) & saltMask
	e = (uint64(hi^swap)<<24 | uint64(lo^swap)) ^ subkey
	var out uint32
	for i := range 8 {
		six := e >> (42 - 6*i) & 0x3f
		row := six>>4&2 | six&1
		col := six >> 1 & 0xf
		out = out<<4 | uint32(desSBoxes[i][row*16+col])
	}
	return uint32(permute(uint64(out), 32, desP[:]))
}

// desSubkeys computes the sixteen 48-bit round keys.
func desSubkeys(key uint64) [16]uint64 {
	var ks [16]uint64
	cd := permute(key, 64, desPC1[:])
	c, d := uint32(cd>>28), uint32(cd&0x0fffffff)
	for i, s := range desShifts {
		c = (c<<s | c>>(28-s)) & 0x0fffffff
		d = (d<<s | d>>(28-s)) & 0x0fffffff
		ks[i] = permute(uint64(c)<<28|uint64(d), 56, desPC2[:])
	}
	return ks
}

// permute builds a value from the bits of in (inWidth bits wide) listed in
// table, using DES's numbering: bit 1 is the most significant.
func permute(in uint64, inWidth uint, table []uint8) uint64 {
	var out uint64
	for _, pos := range table {
		out = out<<1 | in>>(inWidth-uint(pos))&1
	}
	return out
}

// DES tables from FIPS 46-3.
var (
	desIP = [64]uint8{
		58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
		62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
		57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
		61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
	}
	desFP = [64]uint8{
		40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
		38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
		36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
		34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
	}
	desE = [48]uint8{
		32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9,
		8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
		16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
		24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
	}
	desP = [32]uint8{
		16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
		2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
	}
	desPC1 = [56]uint8{
		57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
		10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
		63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
		14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
	}
	desPC2 = [48]uint8{
		14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
		23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
		41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
		44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
	}
	desShifts = [16]uint32{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}
	desSBoxes = [8][64]uint8{{
		14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
		0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
		4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
		15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
	}, {
		15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
		3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
		0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
		13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
	}, {
		10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
		13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
		13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
		1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
	}, {
		7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
		13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
		10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
		3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
	}, {
		2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
		14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
		4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
		11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
	}, {
		12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
		10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
		9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
		4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
	}, {
		4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
		13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
		1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
		6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
	}, {
		13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
		1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
		7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
		2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
	}}
)
