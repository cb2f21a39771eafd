"""Offline corpora: fetch (``fetch``), parse/align (``libreoffice``, ``ding``, ``bible``), split and write
(``splits``, ``prepare``). Only ``fetch`` touches the network; everything else works on unpacked directories."""
