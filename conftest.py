"""pytest's settings for every test and doctest of the repository: the messages they compare are English whatever
the machine's locale (LANG=zh_CN.UTF-8 would choose Chinese, d2lstyle.i18n); the tests of the Chinese messages
set D2LSTYLE_LANG=zh themselves. (tests/conftest.py holds the tests' fixtures.)"""

import os

os.environ["D2LSTYLE_LANG"] = "en"
