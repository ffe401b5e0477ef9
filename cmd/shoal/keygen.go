package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"
)

func newKeygenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keygen",
		Short: "Print a new random key for gossip encryption (--encrypt) or an API token",
		Long: `Print 32 random bytes in base64: the fleet's gossip key for shoal agent --encrypt
(the same key on every agent; an agent without it cannot join), or a bearer token
to put in the file of --token-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(b))
			return nil
		},
	}
}
