"""Vector index: document embeddings and the approximate nearest neighbour index."""
