from keyceremony.cli.main import main

raise SystemExit(main())
