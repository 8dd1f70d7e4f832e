// Command goverify checks DVC Hub proof bundles with independent implementations: Go's
// golang.org/x/mod/sumdb/note (the signed note), transparency-dev/formats (the checkpoint),
// transparency-dev/merkle (RFC 9162 inclusion and consistency proofs, in the log and in the
// map of dossier heads) and google/uuid (the dossier's id). The bundle's rules are written
// here again from the verifier's documentation, not from its code.
//
//	goverify VKEY ORIGIN BUNDLE...
//
// prints one line per bundle: "<file> complete", "<file> incomplete" (verified, but the
// checkpoint signs no map of heads) or "<file> refused <reason>". Exit status 2 on a usage
// error, else 0.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

var namespace = uuid.MustParse("5f0c2a8e-7a4b-5d0e-9c55-2d1e0b6f4a10")

type event struct {
	Canonical string   `json:"canonical"`
	LeafIndex *uint64  `json:"leaf_index"`
	Inclusion []string `json:"inclusion"`
}

type head struct {
	Code       string   `json:"dossier_code"`
	Originator string   `json:"originator_id"`
	Version    *uint64  `json:"version"`
	LeafIndex  *uint64  `json:"leaf_index"`
	Chain      string   `json:"chain"`
	Index      *uint64  `json:"index"`
	Inclusion  []string `json:"inclusion"`
}

type heads struct {
	Head   *head `json:"head"`
	Before *head `json:"before"`
	After  *head `json:"after"`
}

type bundle struct {
	Format      string  `json:"format"`
	Code        string  `json:"dossier_code"`
	Checkpoint  string  `json:"checkpoint"`
	Events      []event `json:"events"`
	Heads       *heads  `json:"heads"`
	Consistency *struct {
		Older string   `json:"older_checkpoint"`
		Proof []string `json:"proof"`
	} `json:"consistency"`
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: goverify VKEY ORIGIN BUNDLE...")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goverify: verifier key:", err)
		os.Exit(2)
	}
	for _, path := range os.Args[3:] {
		complete, err := check(path, verifier, os.Args[2])
		switch {
		case err != nil:
			fmt.Printf("%s refused %s\n", path, strings.ReplaceAll(err.Error(), "\n", " "))
		case complete:
			fmt.Printf("%s complete\n", path)
		default:
			fmt.Printf("%s incomplete\n", path)
		}
	}
}

func hashes(values []string) ([][]byte, error) {
	out := make([][]byte, len(values))
	for i, v := range values {
		h, err := hex.DecodeString(v)
		if err != nil || len(h) != 32 {
			return nil, errors.New("a hash is not 32 bytes of hex")
		}
		out[i] = h
	}
	return out, nil
}

func headLeaf(h *head) ([]byte, error) {
	if h == nil || h.Version == nil || h.LeafIndex == nil || h.Index == nil {
		return nil, errors.New("incomplete head")
	}
	originator, err := uuid.Parse(h.Originator)
	if err != nil {
		return nil, err
	}
	chain, err := hex.DecodeString(h.Chain)
	if err != nil || len(chain) != 32 {
		return nil, errors.New("bad chain hash")
	}
	var data bytes.Buffer
	data.WriteString("dvchub-head/1\n" + h.Code + "\n")
	data.Write(originator[:])
	binary.Write(&data, binary.BigEndian, *h.Version)
	binary.Write(&data, binary.BigEndian, *h.LeafIndex)
	data.Write(chain)
	return rfc6962.DefaultHasher.HashLeaf(data.Bytes()), nil
}

func inMap(h *head, count uint64, root []byte) error {
	leaf, err := headLeaf(h)
	if err != nil {
		return err
	}
	path, err := hashes(h.Inclusion)
	if err != nil {
		return err
	}
	return proof.VerifyInclusion(rfc6962.DefaultHasher, *h.Index, count, leaf, path, root)
}

func check(path string, verifier note.Verifier, origin string) (bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var b bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, err
	}
	if b.Format != "dvchub-proof/1" || b.Code == "" || len(b.Events) == 0 {
		return false, errors.New("not a bundle")
	}
	cp, other, _, err := log.ParseCheckpoint([]byte(b.Checkpoint), origin, verifier)
	if err != nil {
		return false, err
	}
	id := uuid.NewSHA1(namespace, []byte(b.Code))
	chain := make([]byte, 32)
	var lastLeaf uint64
	for i, e := range b.Events {
		data, err := base64.StdEncoding.DecodeString(e.Canonical)
		if err != nil {
			return false, err
		}
		var content struct {
			Originator string `json:"originator_id"`
			Version    uint64 `json:"originator_version"`
			State      struct {
				Record struct {
					Code string `json:"dossier_code"`
				} `json:"record"`
			} `json:"state"`
		}
		if err := json.Unmarshal(data, &content); err != nil {
			return false, err
		}
		if content.Originator != id.String() || content.State.Record.Code != b.Code {
			return false, errors.New("an event of another dossier")
		}
		if content.Version != uint64(i+1) {
			return false, errors.New("versions out of order")
		}
		if e.LeafIndex == nil || (i > 0 && *e.LeafIndex <= lastLeaf) {
			return false, errors.New("leaves out of order")
		}
		lastLeaf = *e.LeafIndex
		path, err := hashes(e.Inclusion)
		if err != nil {
			return false, err
		}
		leaf := rfc6962.DefaultHasher.HashLeaf(data)
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, lastLeaf, cp.Size, leaf, path, cp.Hash); err != nil {
			return false, err
		}
		sum := sha256.Sum256(append(append([]byte{}, chain...), leaf...))
		chain = sum[:]
	}
	complete := false
	var count uint64
	var root []byte
	found := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(other), "\n"), "\n") {
		parts := strings.Split(line, " ")
		if parts[0] != "dvchub-heads" {
			continue
		}
		found++
		if len(parts) != 3 {
			return false, errors.New("bad heads line")
		}
		if count, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
			return false, err
		}
		if root, err = base64.StdEncoding.DecodeString(parts[2]); err != nil || len(root) != 32 {
			return false, errors.New("bad heads root")
		}
	}
	if found > 1 {
		return false, errors.New("two maps of heads")
	}
	if found == 1 {
		if b.Heads == nil || b.Heads.Head == nil {
			return false, errors.New("no head proof")
		}
		h := b.Heads.Head
		if h.Code != b.Code || h.Originator != id.String() {
			return false, errors.New("the head of another dossier")
		}
		if err := inMap(h, count, root); err != nil {
			return false, err
		}
		if *h.Index > 0 {
			if b.Heads.Before == nil || b.Heads.Before.Index == nil || *b.Heads.Before.Index != *h.Index-1 || !(b.Heads.Before.Code < b.Code) {
				return false, errors.New("bad neighbour before")
			}
			if err := inMap(b.Heads.Before, count, root); err != nil {
				return false, err
			}
		}
		if *h.Index+1 < count {
			if b.Heads.After == nil || b.Heads.After.Index == nil || *b.Heads.After.Index != *h.Index+1 || !(b.Heads.After.Code > b.Code) {
				return false, errors.New("bad neighbour after")
			}
			if err := inMap(b.Heads.After, count, root); err != nil {
				return false, err
			}
		}
		headChain, _ := hex.DecodeString(h.Chain)
		if *h.Version != uint64(len(b.Events)) || *h.LeafIndex != lastLeaf || !bytes.Equal(headChain, chain) {
			return false, errors.New("the events do not end at the dossier's head")
		}
		complete = true
	}
	if b.Consistency != nil {
		older, _, _, err := log.ParseCheckpoint([]byte(b.Consistency.Older), origin, verifier)
		if err != nil {
			return false, err
		}
		path, err := hashes(b.Consistency.Proof)
		if err != nil {
			return false, err
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, older.Size, cp.Size, path, older.Hash, cp.Hash); err != nil {
			return false, err
		}
	}
	return complete, nil
}
