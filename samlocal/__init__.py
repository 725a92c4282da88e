"""A SAM template's stack on one laptop, on an embedded moto server: one folder per emulated AWS
service, as SAM CLI's ``samcli/local/``. It imports no application code; an application starts
it with :class:`samlocal.runtime.LocalRuntime` and hands in its own start-up as hooks."""
