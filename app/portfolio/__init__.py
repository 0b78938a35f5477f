"""Holdings: transactions, the positions they make, and what those are worth."""
