"""Local servers that speak each video vendor's wire format, for the official SDKs to talk to."""
