"""Pure business rules of Userflow: no AWS SDK, no handler imports."""
