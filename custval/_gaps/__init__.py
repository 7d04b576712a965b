"""Gap-analysis machinery: input checks, dyad matching and the latent perception gap."""
