/**
 * SSH keys made once with `ssh-keygen` (OpenSSH 9.2): OpenSSH-format private keys, the same keys
 * converted to PEM (`ssh-keygen -p -m PEM`; the ed25519 one rebuilt as PKCS#8 from its seed),
 * their `.pub` lines and the fingerprints `ssh-keygen -l` printed. They are the ground truth
 * the SSH wire encoder is checked against. Test data only: no real use.
 */
export interface SshKeyFixture {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` */
  openSsh: string;
  /** The same key in PEM, which node can read. */
  pem?: string;
  /** The `.pub` line, comment `fixture@custos`. */
  publicLine: string;
  /** As printed by `ssh-keygen -l`. */
  fingerprint: string;
  bits: number;
}

export const SSH_FIXTURE_PASSPHRASE = 'fixture-passphrase';

export const SSH_ED25519: SshKeyFixture = {
  openSsh: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCbIxsJj5zu779w5PYwgbX+/B8lZiaOop4Aw/8dEblELgAAAJiPhNy+j4Tc
vgAAAAtzc2gtZWQyNTUxOQAAACCbIxsJj5zu779w5PYwgbX+/B8lZiaOop4Aw/8dEblELg
AAAEDSfrtK7KGZfi79B272X3GXGXG7zPnt2zOaF6tgEXD3wpsjGwmPnO7vv3Dk9jCBtf78
HyVmJo6ingDD/x0RuUQuAAAADmZpeHR1cmVAY3VzdG9zAQIDBAUGBw==
-----END OPENSSH PRIVATE KEY-----
`,
  pem: `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINJ+u0rsoZl+Lv0HbvZfcZcZcbvM+e3bM5oXq2ARcPfC
-----END PRIVATE KEY-----
`,
  publicLine:
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJsjGwmPnO7vv3Dk9jCBtf78HyVmJo6ingDD/x0RuUQu fixture@custos',
  fingerprint: 'SHA256:jqOT7+hBwtp2RdloWAcZ6YKKlsvMLZIYr3SwvW62FIc',
  bits: 256,
};

/** Encrypted with aes256-ctr (ssh-keygen's default), passphrase SSH_FIXTURE_PASSPHRASE. */
export const SSH_ED25519_ENCRYPTED: SshKeyFixture = {
  openSsh: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDPcSwIDl
24AdZDirL4GZWMAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPXyfmDNrJrkuW3O
Jo7dhumqGekPowwx7txdfL99g5PkAAAAoIZMiyiTXqy0kz9/8n1S/nOo9JOFM8S7FKsNe+
Cp+4/pRqNN1K8C/h+jVwKz/7WkRMUc0WeN6iIoUFDq54AwUEMmH3g31zltp2oMPRnjeiyD
RtaPn1d+l/FKAcEA9ytlwU+ow3juZ/T/dDCjc0MuJ7ioujMGyoIh62vkzMHfjFanoMcAaN
jXRhI1ATF62DBHrr4AMi/ICjBAJYsArvluriQ=
-----END OPENSSH PRIVATE KEY-----
`,
  publicLine:
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPXyfmDNrJrkuW3OJo7dhumqGekPowwx7txdfL99g5Pk fixture@custos',
  fingerprint: 'SHA256:iIv0Bl7N+V4vKsO77f3xl1jCJTAco6V79WrzIhnMLS8',
  bits: 256,
};

/** Encrypted with aes256-gcm@openssh.com, whose tag follows the private part; passphrase SSH_FIXTURE_PASSPHRASE. */
export const SSH_ED25519_ENCRYPTED_GCM: SshKeyFixture = {
  openSsh: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAFmFlczI1Ni1nY21Ab3BlbnNzaC5jb20AAAAGYmNyeXB0AA
AAGAAAABAUPvt2hNXpHG1gJ8x45bD1AAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAA
IDAUz3PhqWGnyqWZxuwe8eVHkf596PrkXbjY1ym+9aXhAAAAoD/3GDXR8cah5ToKm+XWha
4hhVLFmutOaswsTM9CSxp9aDJohxrLxZN/Rw9vxEKEQNHedLyuQMlCvlPs40rEtSH1RKbO
Upab5Hds/FgmiF3Bv4iStBfdweIQXrhuaIboJ99jvZk+9z37YOESwPekYEH1g399d4MoFd
F7CHtcw1zfCxJTmqZZH6y21eyXzl+xJIt7gpnxZ7lQy4q5nii+3IcP5nVEn3w4VLo6Ad0I
vLKG
-----END OPENSSH PRIVATE KEY-----
`,
  publicLine:
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDAUz3PhqWGnyqWZxuwe8eVHkf596PrkXbjY1ym+9aXh fixture@custos',
  fingerprint: 'SHA256:Wvsd16x8a49XVsLQeYdnyuI5U5T1dRiGW1sq//fEYEM',
  bits: 256,
};

export const SSH_ECDSA_P256: SshKeyFixture = {
  openSsh: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS
1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQRVNbWUr7P/uXgVMl+cT+JkNnOu08mM
kMeYqf2ocCDRq0eqxtdrP0x5mfwSkZvt3KBKHuYzX4VzDoWv+jEE72LoAAAAqPfPmzv3z5
s7AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFU1tZSvs/+5eBUy
X5xP4mQ2c67TyYyQx5ip/ahwINGrR6rG12s/THmZ/BKRm+3coEoe5jNfhXMOha/6MQTvYu
gAAAAhAP7+EypuxO9uBq+jUFQycyq6B1m/2r3y41TIlj1foRyuAAAADmZpeHR1cmVAY3Vz
dG9zAQ==
-----END OPENSSH PRIVATE KEY-----
`,
  pem: `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIP7+EypuxO9uBq+jUFQycyq6B1m/2r3y41TIlj1foRyuoAoGCCqGSM49
AwEHoUQDQgAEVTW1lK+z/7l4FTJfnE/iZDZzrtPJjJDHmKn9qHAg0atHqsbXaz9M
eZn8EpGb7dygSh7mM1+Fcw6Fr/oxBO9i6A==
-----END EC PRIVATE KEY-----
`,
  publicLine:
    'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFU1tZSvs/+5eBUyX5xP4mQ2c67TyYyQx5ip/ahwINGrR6rG12s/THmZ/BKRm+3coEoe5jNfhXMOha/6MQTvYug= fixture@custos',
  fingerprint: 'SHA256:zMWDPze22mllLelUAfsuBN8mMaKWTWbOmiFJ+nU731M',
  bits: 256,
};

export const SSH_ECDSA_P521: SshKeyFixture = {
  openSsh: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAArAAAABNlY2RzYS
1zaGEyLW5pc3RwNTIxAAAACG5pc3RwNTIxAAAAhQQBcPeWQ8aqCe1v4rWFghcwm5XYQySS
Om6b3Em2RZym10GnVP+rGxQCbJVou5MyI9SXN0ju/KpnNmLOQP7L5UeslgcBDyenj63SiQ
IIMgmVTpWeAAKg2Si/O6GPHfUfNjwBVNS/k4yNp/8hCt6JeuExWIC86y5GrxsFIkd1PpUD
MoyOZgQAAAEQ2UWmvtlFpr4AAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQ
AAAIUEAXD3lkPGqgntb+K1hYIXMJuV2EMkkjpum9xJtkWcptdBp1T/qxsUAmyVaLuTMiPU
lzdI7vyqZzZizkD+y+VHrJYHAQ8np4+t0okCCDIJlU6VngACoNkovzuhjx31HzY8AVTUv5
OMjaf/IQreiXrhMViAvOsuRq8bBSJHdT6VAzKMjmYEAAAAQgHJbJ2BJtpiK1QCJfsj4JnD
PhvM5JUE2adaMDqS7gFi959BKTPZuV1qwFltIsOdK5PFbV3xo65xpiOrv8EnE5qQNgAAAA
5maXh0dXJlQGN1c3RvcwECAwQ=
-----END OPENSSH PRIVATE KEY-----
`,
  pem: `-----BEGIN EC PRIVATE KEY-----
MIHcAgEBBEIByWydgSbaYitUAiX7I+CZwz4bzOSVBNmnWjA6ku4BYvefQSkz2bld
asBZbSLDnSuTxW1d8aOucaYjq7/BJxOakDagBwYFK4EEACOhgYkDgYYABAFw95ZD
xqoJ7W/itYWCFzCbldhDJJI6bpvcSbZFnKbXQadU/6sbFAJslWi7kzIj1Jc3SO78
qmc2Ys5A/svlR6yWBwEPJ6ePrdKJAggyCZVOlZ4AAqDZKL87oY8d9R82PAFU1L+T
jI2n/yEK3ol64TFYgLzrLkavGwUiR3U+lQMyjI5mBA==
-----END EC PRIVATE KEY-----
`,
  publicLine:
    'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAFw95ZDxqoJ7W/itYWCFzCbldhDJJI6bpvcSbZFnKbXQadU/6sbFAJslWi7kzIj1Jc3SO78qmc2Ys5A/svlR6yWBwEPJ6ePrdKJAggyCZVOlZ4AAqDZKL87oY8d9R82PAFU1L+TjI2n/yEK3ol64TFYgLzrLkavGwUiR3U+lQMyjI5mBA== fixture@custos',
  fingerprint: 'SHA256:Sb5H2duv0MNW8VTb/Ab1casfxfEuTs/C+c0de7Tcfwk',
  bits: 521,
};

export const SSH_RSA_2048: SshKeyFixture = {
  openSsh: `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdzc2gtcn
NhAAAAAwEAAQAAAQEApe/xDtYbF0sE9d7VSaEbJ0dCAA1/Fv8yWXyVXncA7/JuwdIP4UaQ
pnwq4XjyGeF4TYD3+QDDbWvlTuugNjEEJsYOC0bEJUJyAD8FWsM72XQabVZr9Bw/tZAENR
dVOmMG5CkN/sNWXnLS03Ilc+s+KFhRN0q30BYVd6B2qD9lvXQu5br57OkALXsNM8v1gsUw
vwA5p2JhpCe6x9qlQ+tqPh1OPj5gRlqRBNaDy42a/ntcMWv5C5AkKiWc0ASok7nvI/HLw1
J/hA/OTHWRcc3Xc8d+lr4MKDDsqss3+F5yPa5XjGRCWFN3HMOiccJSMZjT1SMAtoQ2ccdh
coM5VAZiEwAAA8iVcfawlXH2sAAAAAdzc2gtcnNhAAABAQCl7/EO1hsXSwT13tVJoRsnR0
IADX8W/zJZfJVedwDv8m7B0g/hRpCmfCrhePIZ4XhNgPf5AMNta+VO66A2MQQmxg4LRsQl
QnIAPwVawzvZdBptVmv0HD+1kAQ1F1U6YwbkKQ3+w1ZectLTciVz6z4oWFE3SrfQFhV3oH
aoP2W9dC7luvns6QAtew0zy/WCxTC/ADmnYmGkJ7rH2qVD62o+HU4+PmBGWpEE1oPLjZr+
e1wxa/kLkCQqJZzQBKiTue8j8cvDUn+ED85MdZFxzddzx36WvgwoMOyqyzf4XnI9rleMZE
JYU3ccw6JxwlIxmNPVIwC2hDZxx2FygzlUBmITAAAAAwEAAQAAAQAWB9YsTxbHr+kXr58H
qIEPZPGJSkFuTzFjGhxGr2wLb1dvGjGLii/YOrICv2j9MKclOxMxFv3bQDDwmm3p4/YWI8
NnkdymybyS9csDMtp2U2jSzV+FyF5Y/6bfWZqyJsWacyztfwevgHUnJ4d7bWcSOi+GNMBU
uynceQxn6Arc7SIQ7lFpnwjpBn46UFSPmHVu7fwZrh5OKEQt58ehoLLHxSsHI8GgtVEcgS
mjPdxJDsAIepxC8N05LlrHRu7K99r6YUxhGhIuNwspxnmu+GbMrCv1eI/2suwMGB9wJJq1
6S764l7nhrummVJtUySYnXuM4VRYCz/ItmbTR84JZiE5AAAAgBdSYwQnIH+sGdVXmvP+9T
IxFf+xvWOSP66nJUVPzMACmo0tSasWQFqzxgxWZcwv+5yP0lvNvb/JAVlkC++3HxBaZEfP
ughYPCfdoqb//yWmeyAsKCyiovNJGfZ6XO0HQqCH8bljq6pZ/PH3bdjIS8Q1tn4lM8LCrN
7LcsAxJ2gfAAAAgQDdvkyZcH0mfznnxzkh+2/gHTa/AD+Fc79zhIHTe0jjuNdHGeu+znx8
5UrKHkHzdZ3OyhqUngG2wLlWyC7plTqrgIdBrr1i9umzpZWx3DFGT8QRDch4H/pDH5DXyu
i9LfauQaSjuEFlaNMqTUNIpKbF6/W/mdSJETshAy30lYj75QAAAIEAv5KTDk/7JhZs8q1Q
kmQGwfQn87RXFZzPa/J3o0j+MS7r+S/VRVWmxU6kZ/XdXZmL7u4yzRhJuO+/EWfY3Nw7H+
nJBSt9J17F+LvVYrvyIfP/aG0U10hqXTGLiPpaSlU+l+bSR4KSMkNfNmymwltO9r7BASrS
Gx85y7K4WihBtpcAAAAOZml4dHVyZUBjdXN0b3MBAgMEBQ==
-----END OPENSSH PRIVATE KEY-----
`,
  pem: `-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEApe/xDtYbF0sE9d7VSaEbJ0dCAA1/Fv8yWXyVXncA7/JuwdIP
4UaQpnwq4XjyGeF4TYD3+QDDbWvlTuugNjEEJsYOC0bEJUJyAD8FWsM72XQabVZr
9Bw/tZAENRdVOmMG5CkN/sNWXnLS03Ilc+s+KFhRN0q30BYVd6B2qD9lvXQu5br5
7OkALXsNM8v1gsUwvwA5p2JhpCe6x9qlQ+tqPh1OPj5gRlqRBNaDy42a/ntcMWv5
C5AkKiWc0ASok7nvI/HLw1J/hA/OTHWRcc3Xc8d+lr4MKDDsqss3+F5yPa5XjGRC
WFN3HMOiccJSMZjT1SMAtoQ2ccdhcoM5VAZiEwIDAQABAoIBABYH1ixPFsev6Rev
nweogQ9k8YlKQW5PMWMaHEavbAtvV28aMYuKL9g6sgK/aP0wpyU7EzEW/dtAMPCa
benj9hYjw2eR3KbJvJL1ywMy2nZTaNLNX4XIXlj/pt9ZmrImxZpzLO1/B6+AdScn
h3ttZxI6L4Y0wFS7Kdx5DGfoCtztIhDuUWmfCOkGfjpQVI+YdW7t/BmuHk4oRC3n
x6GgssfFKwcjwaC1URyBKaM93EkOwAh6nELw3TkuWsdG7sr32vphTGEaEi43CynG
ea74ZsysK/V4j/ay7AwYH3AkmrXpLvriXueGu6aZUm1TJJide4zhVFgLP8i2ZtNH
zglmITkCgYEA3b5MmXB9Jn8558c5Iftv4B02vwA/hXO/c4SB03tI47jXRxnrvs58
fOVKyh5B83WdzsoalJ4BtsC5Vsgu6ZU6q4CHQa69Yvbps6WVsdwxRk/EEQ3IeB/6
Qx+Q18rovS32rkGko7hBZWjTKk1DSKSmxev1v5nUiRE7IQMt9JWI++UCgYEAv5KT
Dk/7JhZs8q1QkmQGwfQn87RXFZzPa/J3o0j+MS7r+S/VRVWmxU6kZ/XdXZmL7u4y
zRhJuO+/EWfY3Nw7H+nJBSt9J17F+LvVYrvyIfP/aG0U10hqXTGLiPpaSlU+l+bS
R4KSMkNfNmymwltO9r7BASrSGx85y7K4WihBtpcCgYAKaFgoC4OUPvx0yIEB+08w
8a4UIOraVKhzv5BoYKz3I0HXcHwEJKTrJ8fu3KSzzJ1vi0TcHN5vuXP5gsPQ6tQq
IIo4pv70mio16FuyUWduqWfGdSMnoDia1exydG+gEXw2iZY0qP1IyTbAEYhK7I93
Uq/iIlI7bLedwQxzImGfkQKBgDPe6yR38YfJkKxQ0z0gClhf1KV/EglPETaoS06S
CAmnK8un8PY6D9LizU882jhqx+Hk6ypvRh7mA3UiCi0bEIM+mOhmcxfC6JXFvixi
uVgKKgDLcFYuTGZ5cM+hAeuYkz8sB4nHR/CGH3SsDKcZdBMJaVb4kjU3yj1mYdY/
ijN3AoGAF1JjBCcgf6wZ1Vea8/71MjEV/7G9Y5I/rqclRU/MwAKajS1JqxZAWrPG
DFZlzC/7nI/SW829v8kBWWQL77cfEFpkR8+6CFg8J92ipv//JaZ7ICwoLKKi80kZ
9npc7QdCoIfxuWOrqln88fdt2MhLxDW2fiUzwsKs3stywDEnaB8=
-----END RSA PRIVATE KEY-----
`,
  publicLine:
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCl7/EO1hsXSwT13tVJoRsnR0IADX8W/zJZfJVedwDv8m7B0g/hRpCmfCrhePIZ4XhNgPf5AMNta+VO66A2MQQmxg4LRsQlQnIAPwVawzvZdBptVmv0HD+1kAQ1F1U6YwbkKQ3+w1ZectLTciVz6z4oWFE3SrfQFhV3oHaoP2W9dC7luvns6QAtew0zy/WCxTC/ADmnYmGkJ7rH2qVD62o+HU4+PmBGWpEE1oPLjZr+e1wxa/kLkCQqJZzQBKiTue8j8cvDUn+ED85MdZFxzddzx36WvgwoMOyqyzf4XnI9rleMZEJYU3ccw6JxwlIxmNPVIwC2hDZxx2FygzlUBmIT fixture@custos',
  fingerprint: 'SHA256:Vm5tn7mlZTeRDq9NFBEykz/a4rhP7zsIYGlEkoFha3w',
  bits: 2048,
};
