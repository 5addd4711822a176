"""Plain typed models of the support domain. No database or network imports here."""
