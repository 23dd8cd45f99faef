"""Two-factor sign-in for staff: TOTP authenticator apps and single-use recovery codes.

`core` decides who needs a second factor and reads and writes the devices (no HTTP);
`session` keeps a sign-in half-way between the password and the code; `views` are the login
page, the code step and the Two-factor page; `middleware` keeps a session without its second
factor out of every other page; `adminsite` makes the admin ask for it too.
"""
