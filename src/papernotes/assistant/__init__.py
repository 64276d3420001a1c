"""``papernotes mcp``: the Model Context Protocol server for AI assistants, over the same read
API and write paths as the command line. The only package that imports the MCP SDK."""
