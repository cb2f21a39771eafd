"""Engines that are not torch models of ours (pretrained engines shipped inside packages)."""
