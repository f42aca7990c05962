"""Who is acting (identity) and whether they may (authorization): the seam sign-in providers plug into."""
