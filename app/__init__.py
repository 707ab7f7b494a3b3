"""AgentGap: which of your local models can actually work as an agent?"""

__version__ = "0.1.0"
